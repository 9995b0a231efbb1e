"""LiteMedSAM before and after interactive fine-tuning: box Dice, 1-point Dice, clicks, NoC.

Two datasets, each trained on its training part (fold ``all``) and scored on held-out data
with ``samseg_evaluate_prompts`` (Dice in the preprocessed grid, see
documentation/evaluation.md):

- ``ct``: ``shared/data/Dataset901_AbdomenCTExample`` cut as in ``low_data_ct.py`` (the same
  held-out slab of 17 slices centred on slice 86; the slices below and above train).
- ``kvasir``: the 150 shared Kvasir-SEG photos through ``samseg_convert_image_folder`` with a
  fixed 80/20 split (seed 0): 120 train, 30 test.

Both are planned with ``LiteMedSAMPlanner`` (``2d_256``). Its fixed scale cuts a 530 x 616
photo into 9 windows of 256; for Kvasir the benchmark edits the plans (plain JSON, as a user
may) to resize each whole photo to 256 x 256 (``resize_to_fill``, large slices resized), one
encoder pass per photo, as MedSAM feeds LiteMedSAM. "before" is the packaged LiteMedSAM
(``--sam_checkpoint`` without a path), "after" a ``SAMInteractiveDecoderOnlyTrainer``
subclass with an iteration budget (written into the work folder and found through
``SAMSEG_extTrainer``; its final validation is skipped, the held-out data is the test). The
table gives per class box Dice, 1-point Dice, Dice after the last click, NoC@85/90, and the
seconds per training iteration (each iteration is one batch of ``--batch`` (slice, class)
samples through one interaction episode of 1 + ``--corrective_steps`` decoder passes)::

    python benchmarks/interactive_finetuning.py --work /tmp/ibench --iterations 200
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from plan_and_preprocess import ABDOMEN, BenchmarkError, cpu_model, measure, require
from volume_split import SlabSplit, write_split_dataset

REPO = Path(__file__).resolve().parents[1]
KVASIR = REPO.parent / "shared" / "data" / "kvasir_seg"
PLANS, CONFIGURATION = "samsegLiteMedSAMPlans", "2d_256"
DATASETS = {"ct": (951, "AbdomenCTInteractive"), "kvasir": (952, "KvasirInteractive")}
TRAINER = "BenchInteractiveDecoderTrainer"
TRAINER_SOURCE = '''"""Benchmark trainer of interactive_finetuning.py (generated)."""

from samseg.training.interactive import InteractionSettings
from samseg.training.trainers.interactive import SAMInteractiveDecoderOnlyTrainer


class {name}(SAMInteractiveDecoderOnlyTrainer):
    """Decoder-only interactive LiteMedSAM, {epochs} x {steps} iterations of batch {batch},
    {corrective} corrective steps per iteration."""

    model_type = "litemedsam"
    interaction = InteractionSettings(corrective_steps={corrective})
    num_epochs = {epochs}
    num_iterations_per_epoch = {steps}
    num_val_iterations_per_epoch = 2
    batch_size = {batch}
    warmup_iterations = {warmup}
    save_every = {epochs}

    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: final validation skipped (the held-out data is the test)")
'''


def environment(work: Path) -> dict[str, str]:
    """The tools' environment: roots in the work folder and the benchmark trainer (each tool
    sets its torch threads by samseg's policy, one less than the cores)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("nnUNet_", "SAMSEG_"))}
    env.update(
        SAMSEG_raw=str(work / "raw"),
        SAMSEG_preprocessed=str(work / "preprocessed"),
        SAMSEG_results=str(work / "results"),
        SAMSEG_extTrainer=str(work / "trainers"),
    )
    return env


def run(name: str, command: Sequence[str | Path], env: dict[str, str], logs: Path) -> float:
    """One stage, its output kept in ``logs/name``; its wall seconds."""
    print(f"{time.strftime('%H:%M:%S')} {name} ...", file=sys.stderr, flush=True)
    (logs / name).mkdir(parents=True, exist_ok=True)
    wall, _ = measure([str(c) for c in command], env, logs / name)
    print(f"{time.strftime('%H:%M:%S')} {name}: {wall:.0f} s", file=sys.stderr, flush=True)
    return wall


def write_raw(dataset: str, work: Path, env: dict[str, str], logs: Path) -> Path:
    """The raw dataset folder of ``dataset`` (made once)."""
    number, name = DATASETS[dataset]
    folder = work / "raw" / f"Dataset{number}_{name}"
    if folder.exists():
        return folder
    if dataset == "ct":
        split = SlabSplit.centred(86, 17)
        write_split_dataset(ABDOMEN, "abd_001", split, folder, description="interactive bench")
        return folder
    converter = require(Path(sys.executable).parent / "samseg_convert_image_folder")
    command = [converter, KVASIR / "images", KVASIR / "masks", "-d", number, "-n", name]
    run(f"{dataset}_convert", [*command, "--test_fraction", 0.2, "--seed", 0], env, logs)
    return folder


def resize_whole_slices(plans_file: Path) -> None:
    """Edit the plans so that every slice is resized to fill the input (one view per slice)."""
    plans = json.loads(plans_file.read_text())
    configuration = plans["configurations"][CONFIGURATION]
    configuration.update(slice_scaling="resize_to_fill", large_slice_handling="resize")
    plans_file.write_text(json.dumps(plans, indent=2))


def evaluate(
    dataset: str, raw: Path, source: list, clicks: int, work: Path, env: dict, logs: Path
) -> tuple[dict, float]:
    """``samseg_evaluate_prompts`` on the held-out part; (prompt_summary.json, seconds)."""
    tag = "before" if "--sam_checkpoint" in source else "after"
    output = work / "evaluations" / f"{dataset}_{tag}"
    command = [
        require(Path(sys.executable).parent / "samseg_evaluate_prompts"),
        *("-i", raw / "imagesTs", "-ref", raw / "labelsTs", "-o", output),
        *("-d", DATASETS[dataset][0], "-c", CONFIGURATION, "-p", PLANS, "--clicks", clicks),
        *source,
    ]
    seconds = run(f"{dataset}_evaluate_{tag}", command, env, logs)
    return json.loads((output / "prompt_summary.json").read_text()), seconds


def training_seconds(log_folder: Path) -> tuple[float, float]:
    """(embedding cache seconds, training seconds without it) from the trainer's stdout; the
    epoch times include the cache's build (first epoch) and the two validation batches."""
    text = (log_folder / "stdout.txt").read_text()
    found = re.search(r"views\) encoded in ([0-9.]+) s", text)
    cache = float(found.group(1)) if found else 0.0
    epochs = [float(s) for s in re.findall(r", lr [^,]+, ([0-9.]+) s \(waiting for data", text)]
    return cache, sum(epochs) - cache


def benchmark(dataset: str, args: argparse.Namespace, work: Path, env: dict) -> dict:
    """Plan, evaluate before, train, evaluate after; the numbers of one dataset."""
    logs, bin_dir = work / "logs", Path(sys.executable).parent
    raw = write_raw(dataset, work, env, logs)
    number = DATASETS[dataset][0]
    planner = [require(bin_dir / "samseg_plan_and_preprocess"), "-d", number, "-np", 1]
    run(f"{dataset}_plan", [*planner, "-pl", "LiteMedSAMPlanner"], env, logs)
    if dataset == "kvasir":
        resize_whole_slices(work / "preprocessed" / raw.name / f"{PLANS}.json")
    before, before_s = evaluate(dataset, raw, ["--sam_checkpoint"], args.clicks, work, env, logs)
    model = [number, CONFIGURATION, "all", "-tr", TRAINER, "-p", PLANS, "-device", "cpu"]
    run(f"{dataset}_train", [require(bin_dir / "samseg_train"), *model], env, logs)
    cache_s, train_s = training_seconds(logs / f"{dataset}_train")
    trained = ["-tr", TRAINER, "-f", "all"]
    after, after_s = evaluate(dataset, raw, trained, args.clicks, work, env, logs)
    return {
        "dataset": dataset,
        "before": before,
        "after": after,
        "seconds": {
            "evaluate_before": before_s,
            "evaluate_after": after_s,
            "cache": cache_s,
            "train": train_s,
            "per_iteration": train_s / args.iterations,
        },
    }


def print_table(result: dict, clicks: int) -> None:
    """Per class: box, 1-point, last-click Dice and NoC@85/90, before -> after."""
    before, after = result["before"], result["after"]
    print(f"\n{result['dataset']}: before -> after interactive fine-tuning ({clicks} clicks)")
    header = f"{'class':16s} {'box Dice':>15s} {'1-point Dice':>15s} {'Dice@' + str(clicks):>15s}"
    print(header + f" {'NoC@85':>13s} {'NoC@90':>13s}")
    rows = [(before["classes"][k], before["mean"][k], after["mean"][k]) for k in before["mean"]]
    rows.append(("foreground mean", before["foreground_mean"], after["foreground_mean"]))
    for name, old, new in rows:
        cells = [
            f"{old[m]:.3f} -> {new[m]:.3f}" for m in ("box Dice", "point Dice")
        ] + [f"{old['click Dice'][-1]:.3f} -> {new['click Dice'][-1]:.3f}"]
        cells += [f"{old[m]:.1f} -> {new[m]:.1f}" for m in ("NoC@85", "NoC@90")]
        print(f"{name:16s} " + " ".join(f"{c:>15s}" for c in cells[:3]) + " " + " ".join(
            f"{c:>13s}" for c in cells[3:]
        ))
    seconds = result["seconds"]
    print(
        f"training: {seconds['per_iteration']:.2f} s per iteration ({seconds['train']:.0f} s, "
        f"embedding cache {seconds['cache']:.0f} s); evaluation {seconds['evaluate_before']:.0f}"
        f" s before, {seconds['evaluate_after']:.0f} s after"
    )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="new or reused work folder")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=["ct", "kvasir"])
    parser.add_argument("--iterations", type=int, default=200, help="training iterations")
    parser.add_argument("--epochs", type=int, default=4, help="epochs the budget is split into")
    parser.add_argument("--batch", type=int, default=4, help="(slice, class) samples per batch")
    parser.add_argument(
        "--corrective_steps",
        type=int,
        default=10,
        help="interaction steps after the first per iteration (the recipe's 10; fewer on a CPU)",
    )
    parser.add_argument("--clicks", type=int, default=5, help="corrective clicks evaluated")
    args = parser.parse_args(argv)
    if args.iterations % args.epochs:
        parser.error("--iterations must be a multiple of --epochs")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    work = args.work.resolve()
    (work / "trainers").mkdir(parents=True, exist_ok=True)
    (work / "trainers" / "interactive_bench.py").write_text(
        TRAINER_SOURCE.format(
            name=TRAINER,
            epochs=args.epochs,
            steps=args.iterations // args.epochs,
            batch=args.batch,
            corrective=args.corrective_steps,
            warmup=max(args.iterations // 10, 1),
        )
    )
    env = environment(work)
    threads = max(1, (os.cpu_count() or 1) - 1)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; {threads} torch thread(s) per tool")
    try:
        for dataset in args.datasets:
            result = benchmark(dataset, args, work, env)
            (work / f"{dataset}_result.json").write_text(json.dumps(result, indent=2))
            print_table(result, args.clicks)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
