"""ProMISe on a frozen LiteMedSAM (issue 13, point 7): no prompt, APM, IPS with label points,
ProMISe, APM-box, and the full-fine-tune and LoRA trainers as references.

Two datasets, each trained on fold 0 of its training part (fold 0's validation cases select
``checkpoint_best.pth``) and planned with ``LiteMedSAMPlanner`` (``2d_256``):

- ``kvasir``: the shared Kvasir-SEG photos through ``samseg_convert_image_folder`` (a fixed
  80/20 split, seed 0, as ``interactive_finetuning.py``; ``--kvasir_images N`` takes the
  first N photos), every photo resized whole to 256 x 256 (the plans edited as that
  benchmark does).
- ``ct``: ``shared/data/Dataset901_AbdomenCTExample`` cut as in ``interactive_finetuning.py``
  (held-out slab of 17 slices centred on slice 86); its two training pieces make fold 0 a
  leave-one-out split. Multi-class: the ProMISe rows use class-conditional heads and the
  presence head.

Per method: trainable parameters (the trainer's log), seconds per iteration (with the
embedding cache where the encoder is frozen; ProMISe also from images, ``--timing_iterations``
without the cache), the mean foreground Dice of fold 0's validation cases through the
predictor (``checkpoint_final`` and ``checkpoint_best``), the last epoch's validation
pseudo-Dice (the same validation batches for every method: the only Dice of "IPS + label
points", whose prompts come from the label), and the held-out test Dice of the best
checkpoint. "no prompt" is the frozen LiteMedSAM decoding without any prompt (an IPS network
whose pattern embedding outputs zero, never trained). The benchmark trainers are written into
the work folder and found through ``SAMSEG_extTrainer``::

    python benchmarks/promise.py --work /tmp/pbench --iterations 400 --device cuda
    python benchmarks/promise.py --work /tmp/psmoke --iterations 2 --epochs 1 \\
        --kvasir_images 12 --timing_iterations 2 --datasets kvasir      # smoke test

Each method's row is saved to ``<dataset>_promise_result.json`` as soon as it is measured;
``--timing_iterations 0`` skips the no-cache run and ``--num_workers 0`` loads batches in the
training process (a full fine-tune's forked loader workers otherwise each hold a copy of its
memory on CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from interactive_finetuning import (
    KVASIR,
    environment,
    resize_whole_slices,
    run,
    training_seconds,
)
from plan_and_preprocess import ABDOMEN, BenchmarkError, cpu_model, require
from volume_split import SlabSplit, write_split_dataset

PLANS, CONFIGURATION = "samsegLiteMedSAMPlans", "2d_256"
DATASETS = {"kvasir": (953, "KvasirProMISe"), "ct": (954, "AbdomenCTProMISe")}
METHODS = {
    "no prompt": ("BenchNoPromptTrainer", "ProMISeIPSTrainer"),
    "APM": ("BenchAPMTrainer", "ProMISeAPMTrainer"),
    "IPS + label points": ("BenchIPSTrainer", "ProMISeIPSTrainer"),
    "ProMISe": ("BenchProMISeTrainer", "ProMISeTrainer"),
    "APM-box (samseg)": ("BenchAPMBoxTrainer", "ProMISeAPMBoxTrainer"),
    "full fine-tune": ("BenchFullFineTuneTrainer", "SAMFullFineTuneTrainer"),
    "LoRA": ("BenchLoRATrainer", "SAMLoRATrainer"),
}
NO_CACHE = ("BenchProMISeNoCacheTrainer", "ProMISeNoCacheTrainer")
MODULES = {
    "SAMFullFineTuneTrainer": "samseg.training.trainers.full_finetune",
    "SAMLoRATrainer": "samseg.training.trainers.lora",
}
CLASS_SOURCE = '''

class {name}({base}):
    """{base} on LiteMedSAM, {epochs} x {steps} iterations of batch {batch} (benchmark)."""

    model_type = "litemedsam"
    num_epochs = {epochs}
    num_iterations_per_epoch = {steps}
    num_val_iterations_per_epoch = {validation}
    batch_size = {batch}
    num_workers = {workers}
    save_every = {epochs}
{extra}'''
NO_PROMPT_EXTRA = '''    prompts_from_label = False
    initial_lr = 0.0

    def initialize(self, *, pretrained=True):
        """The IPS network with a zero pattern embedding output: plain SAM, no prompt."""
        super().initialize(pretrained=pretrained)
        for head in self.network.heads:
            torch.nn.init.zeros_(head.pae.mlp[-1].weight)
            torch.nn.init.zeros_(head.pae.mlp[-1].bias)
'''
NO_VALIDATION_EXTRA = """
    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: timing run, validation skipped")
"""


def trainers_source(args: argparse.Namespace) -> str:
    """The benchmark trainers' module: one budgeted subclass per method."""
    imports = {"import torch"}
    classes = []
    for name, base in [*METHODS.values(), NO_CACHE]:
        module = MODULES.get(base, "samseg.training.trainers.promise")
        imports.add(f"from {module} import {base}")
        promise = module.endswith("promise")
        steps = args.timing_iterations if name == NO_CACHE[0] else args.iterations // args.epochs
        extra = f"    initial_lr = {args.promise_lr!r}\n" if promise else ""
        extra += f"    warmup_iterations = {max(args.iterations // 10, 1)}\n" if not promise else ""
        if name == "BenchNoPromptTrainer":
            extra = NO_PROMPT_EXTRA
        if name == NO_CACHE[0]:
            extra += NO_VALIDATION_EXTRA
        epochs = 1 if name in ("BenchNoPromptTrainer", NO_CACHE[0]) else args.epochs
        steps = 1 if name == "BenchNoPromptTrainer" else steps
        classes.append(
            CLASS_SOURCE.format(
                name=name,
                base=base,
                epochs=epochs,
                steps=steps,
                batch=args.batch,
                workers=0 if name == NO_CACHE[0] else args.num_workers,
                validation=args.validation_batches,
                extra=extra,
            )
        )
    header = '"""Benchmark trainers of benchmarks/promise.py (generated)."""\n\n'
    return header + "\n".join(sorted(imports)) + "\n" + "".join(classes)


def write_raw(dataset: str, work: Path, env: dict[str, str], args: argparse.Namespace) -> Path:
    """The raw dataset folder of ``dataset`` (made once)."""
    number, name = DATASETS[dataset]
    folder = work / "raw" / f"Dataset{number}_{name}"
    if folder.exists():
        return folder
    if dataset == "ct":
        split = SlabSplit.centred(86, 17)
        write_split_dataset(ABDOMEN, "abd_001", split, folder, description="ProMISe bench")
        return folder
    source = KVASIR
    if args.kvasir_images:
        source = work / "kvasir_subset"
        for part in ("images", "masks"):
            (source / part).mkdir(parents=True, exist_ok=True)
        for image in sorted((KVASIR / "images").iterdir())[: args.kvasir_images]:
            for part in ("images", "masks"):
                target = source / part / image.name
                if not target.exists():
                    target.symlink_to(KVASIR / part / image.name)
    converter = require(Path(sys.executable).parent / "samseg_convert_image_folder")
    command = [converter, source / "images", source / "masks", "-d", number, "-n", name]
    run(f"{dataset}_convert", [*command, "--test_fraction", 0.2, "--seed", 0], env, work / "logs")
    return folder


def foreground_dice(summary_file: Path) -> float:
    """The foreground mean Dice of a ``summary.json`` over the classes it defines (a class
    absent from both reference and prediction of every case has no Dice)."""
    summary = json.loads(summary_file.read_text())
    means = summary.get("foreground_mean_of_defined_classes", summary["foreground_mean"])
    return float(means["Dice"])


def log_numbers(stdout: Path) -> dict[str, float]:
    """Trainable parameters and the last epoch's mean validation pseudo-Dice from a log."""
    text = stdout.read_text()
    total = re.findall(r"^total\s+([\d,]+)\s+([\d,]+)", text, flags=re.MULTILINE)
    dice = re.findall(r"pseudo Dice \[([^\]]*)\]", text)
    values = [float(v) for v in dice[-1].split(",") if v.strip() != "nan"] if dice else []
    return {
        "trainable": float(total[-1][0].replace(",", "")) if total else float("nan"),
        "pseudo_dice": sum(values) / len(values) if values else float("nan"),
    }


def method_row(dataset: str, method: str, args: argparse.Namespace, work: Path, env: dict) -> dict:
    """Train, validate (final and best), predict and evaluate the test part for one method."""
    trainer = METHODS[method][0]
    number, logs, bin_dir = DATASETS[dataset][0], work / "logs", Path(sys.executable).parent
    raw = work / "raw" / f"Dataset{number}_{DATASETS[dataset][1]}"
    model = [number, CONFIGURATION, "0", "-tr", trainer, "-p", PLANS, "-device", args.device]
    tag = f"{dataset}_{trainer}"
    run(f"{tag}_train", [require(bin_dir / "samseg_train"), *model], env, logs)
    fold = work / "results" / raw.name / f"{trainer}__{PLANS}__{CONFIGURATION}" / "fold_0"
    final = best = foreground_dice(fold / "validation" / "summary.json")
    untrained = trainer == "BenchNoPromptTrainer"
    if not untrained:  # its one epoch at rate 0 leaves best and final the same weights
        run(f"{tag}_val_best", [bin_dir / "samseg_train", *model, "--val", "--val_best"], env, logs)
        best = foreground_dice(fold / "validation" / "summary.json")
    output = work / "predictions" / tag
    predict = [require(bin_dir / "samseg_predict"), "-i", raw / "imagesTs", "-o", output]
    predict += ["-d", number, "-c", CONFIGURATION, "-p", PLANS, "-tr", trainer, "-f", "0"]
    run(
        f"{tag}_predict",
        [*predict, "-chk", "checkpoint_best.pth", "-device", args.device],
        env,
        logs,
    )
    evaluate = [require(bin_dir / "samseg_evaluate"), "-ref", raw / "labelsTs", "-pred", output]
    run(f"{tag}_evaluate", [*evaluate, "-d", number], env, logs)
    cache_s, train_s = training_seconds(logs / f"{tag}_train")
    numbers = log_numbers(logs / f"{tag}_train" / "stdout.txt")
    if untrained:
        numbers["trainable"] = 0.0  # its zeroed pattern embedding is never trained (lr 0)
    return {
        "method": method,
        "trainer": trainer,
        **numbers,
        "seconds_per_iteration": train_s / (1 if untrained else args.iterations),
        "cache_seconds": cache_s,
        "val_dice_final": final,
        "val_dice_best": best,
        "test_dice_best": foreground_dice(output / "summary.json"),
    }


def benchmark(dataset: str, args: argparse.Namespace, work: Path, env: dict) -> dict:
    """Plan once, then every method and the ProMISe timing run without the cache."""
    raw = write_raw(dataset, work, env, args)
    number, bin_dir = DATASETS[dataset][0], Path(sys.executable).parent
    planner = [require(bin_dir / "samseg_plan_and_preprocess"), "-d", number, "-np", 1]
    run(f"{dataset}_plan", [*planner, "-pl", "LiteMedSAMPlanner"], env, work / "logs")
    if dataset == "kvasir":
        resize_whole_slices(work / "preprocessed" / raw.name / f"{PLANS}.json")
    result = {"dataset": dataset, "rows": [], "promise_no_cache_s": None}
    for method in args.methods:
        result["rows"].append(method_row(dataset, method, args, work, env))
        save_result(result, work)
    if args.timing_iterations:
        model = [number, CONFIGURATION, "0", "-tr", NO_CACHE[0], "-p", PLANS]
        model += ["-device", args.device]
        logs = work / "logs" / f"{dataset}_{NO_CACHE[0]}_train"
        run(logs.name, [bin_dir / "samseg_train", *model], env, logs.parent)
        _, seconds = training_seconds(logs)
        result["promise_no_cache_s"] = seconds / args.timing_iterations
        save_result(result, work)
    return result


def save_result(result: dict, work: Path) -> None:
    """The rows measured so far, written after each method (a stopped run keeps them)."""
    target = work / f"{result['dataset']}_promise_result.json"
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result, indent=2))
    temporary.replace(target)


def print_table(result: dict, args: argparse.Namespace) -> None:
    """One row per method."""
    print(
        f"\n{result['dataset']}: LiteMedSAM frozen unless fine-tuned; {args.iterations} "
        f"iterations of batch {args.batch}, ProMISe lr {args.promise_lr:g}; Dice = mean over "
        "the foreground classes it defines; fold 0 validation selects checkpoint_best"
    )
    header = ("method", "trainable", "s/it", "val final", "val best", "val pseudo", "test best")
    print(f"{header[0]:20s}" + "".join(f"{h:>12s}" for h in header[1:]))
    for row in result["rows"]:
        cells = [f"{row['trainable']:,.0f}", f"{row['seconds_per_iteration']:.3f}"]
        cells += [f"{row[k]:.3f}" for k in ("val_dice_final", "val_dice_best", "pseudo_dice")]
        cells.append(f"{row['test_dice_best']:.3f}")
        print(f"{row['method']:20s}" + "".join(f"{c:>12s}" for c in cells))
    if result["promise_no_cache_s"] is not None:
        print(f"ProMISe without the embedding cache: {result['promise_no_cache_s']:.3f} s/it")
    print(
        "'IPS + label points' is scored by its pseudo-Dice (its predictor Dice is IPS without "
        "prompts)"
    )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="new or reused work folder")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["kvasir", "ct"])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--iterations", type=int, default=400, help="training iterations")
    parser.add_argument("--epochs", type=int, default=4, help="epochs the budget is split into")
    parser.add_argument("--batch", type=int, default=8, help="slices per batch")
    parser.add_argument("--validation_batches", type=int, default=8, help="per epoch")
    parser.add_argument(
        "--promise_lr",
        type=float,
        default=1e-4,
        help="ProMISe rows' constant rate (the paper's 1e-5 needs far more iterations)",
    )
    parser.add_argument(
        "--timing_iterations", type=int, default=20, help="no-cache timing run (0: none)"
    )
    parser.add_argument(
        "--num_workers",
        type=int,
        default=2,
        help="loader workers of the trained rows (0 saves a full fine-tune's forked copies)",
    )
    parser.add_argument("--kvasir_images", type=int, default=0, help="first N photos (0: all)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args(argv)
    if args.iterations % args.epochs:
        parser.error("--iterations must be a multiple of --epochs")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    work = args.work.resolve()
    (work / "trainers").mkdir(parents=True, exist_ok=True)
    (work / "trainers" / "promise_bench.py").write_text(trainers_source(args))
    env = environment(work)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; device {args.device}")
    try:
        for dataset in args.datasets:
            result = benchmark(dataset, args, work, env)
            print_table(result, args)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
