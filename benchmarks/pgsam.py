"""PG-SAM on one labelled scan: classwise text prior vs learned embeddings vs released guide vs
SAMed LoRA vs decoder-only (and PG-SAM on the frozen encoder, from the embedding cache),
LiteMedSAM backbone, equal iterations (issue 14, point 5).

``shared/data/Dataset901_AbdomenCTExample`` is cut into a held-out slab and two training
pieces exactly as ``low_data_ct.py`` does (its helpers: ``volume_split``, preprocessing with
the LiteMedSAM planner, ``samseg_predict`` and ``samseg_evaluate`` on the slab). Every method
trains the same iterations x batch on fold ``all``, predicts the slab without mirroring, and
is scored by samseg's evaluation: Dice and HD95 (mm) per organ, trainable parameters (from the
training log; PG-SAM's text-encoder row shown apart) and seconds per iteration (the epochs'
own times, without the embedding cache's build).

Text: with ``--clip PATH`` the class descriptions (``builtin:synapse``) are embedded by that
local CLIP checkpoint. Without it, a randomly initialised CLIP text model
(``samseg.models.pgsam.random_clip``) is written to the work folder: its embeddings tell the
eight descriptions apart but carry **no language knowledge**, so "classwise" then measures the
architecture with distinct fixed class vectors, not the value of medical text. The real
comparison needs a CLIP checkpoint; ``pgsam_synapse_gpu.py`` runs it on Synapse.

    python benchmarks/pgsam.py --iterations 200 --batch 4 --heatmaps pgsam_heatmaps
    python benchmarks/pgsam.py --iterations 2 --batch 2 --epochs 1   # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from low_data_ct import (
    DATASET,
    DATASET_ID,
    SAMSEG_CONFIGURATION,
    SAMSEG_PLANS,
    base_environment,
    evaluate,
    timed,
)
from plan_and_preprocess import ABDOMEN, BenchmarkError, cpu_model, require
from volume_split import SlabSplit, write_split_dataset

REPO = Path(__file__).resolve().parents[1]
METHODS = {
    "classwise": "PGSAMTrainer",
    "learned": "PGSAMLearnedPriorTrainer",
    "released": "PGSAMReleasedTrainer",
    "lora": "SAMLoRATrainer",
    "decoder": "SAMDecoderOnlyTrainer",
    "classwise-frozen": "PGSAMDecoderOnlyTrainer",
    "learned-frozen": "PGSAMDecoderOnlyLearnedPriorTrainer",
    "released-frozen": "PGSAMDecoderOnlyReleasedTrainer",
}
"""Method -> the samseg trainer its benchmark subclass ``Bench<trainer>`` extends."""

TRAINER_TEMPLATE = '''
class Bench{name}({name}):
    """{name} on LiteMedSAM, {epochs} x {steps} steps of batch {batch} (generated)."""

    model_type = "litemedsam"
    num_epochs = {epochs}
    num_iterations_per_epoch = {steps}
    num_val_iterations_per_epoch = 1
    batch_size = {batch}
    warmup_iterations = {warmup}
    save_every = {epochs}

    def perform_validation(self, checkpoint_name="", *, save_probabilities=False):
        self.log.log("benchmark: final validation skipped (the held-out slab is the test)")
'''

IMPORTS = {
    "PGSAMTrainer": "samseg.training.trainers.pgsam",
    "PGSAMLearnedPriorTrainer": "samseg.training.trainers.pgsam",
    "PGSAMReleasedTrainer": "samseg.training.trainers.pgsam",
    "SAMLoRATrainer": "samseg.training.trainers.lora",
    "SAMDecoderOnlyTrainer": "samseg.training.trainers.decoder_only",
    "PGSAMDecoderOnlyTrainer": "samseg.training.trainers.pgsam",
    "PGSAMDecoderOnlyLearnedPriorTrainer": "samseg.training.trainers.pgsam",
    "PGSAMDecoderOnlyReleasedTrainer": "samseg.training.trainers.pgsam",
}


def trainer_source(args: argparse.Namespace) -> str:
    """The module of every ``Bench<trainer>`` class for ``args``."""
    lines = ['"""Benchmark trainers of pgsam.py (generated)."""', ""]
    lines += [f"from {IMPORTS[name]} import {name}" for name in METHODS.values()]
    steps = args.iterations // args.epochs
    for name in METHODS.values():
        lines.append(
            TRAINER_TEMPLATE.format(
                name=name,
                epochs=args.epochs,
                steps=steps,
                batch=args.batch,
                warmup=max(1, args.iterations // 10),
            )
        )
    return "\n".join(lines)


def text_settings(args: argparse.Namespace, work: Path) -> Path:
    """Write the PG-SAM text settings (``--clip`` or a random CLIP in ``work``); their file."""
    clip = args.clip
    if clip is None:
        from samseg.models.pgsam.random_clip import write_random_clip

        clip = write_random_clip(
            work / "random_clip", width=128, layers=4, heads=4, projection=512, max_length=77
        )
    settings = {"source": "clip", "clip_path": str(clip), "descriptions": "builtin:synapse"}
    path = work / "pgsam_text.json"
    path.write_text(json.dumps(settings, indent=2))
    return path


def log_figures(stdout: Path, iterations: int) -> dict[str, float]:
    """Trainable parameters (network, text encoder) and seconds per iteration from a log:
    the epochs' times (training steps and their validation batch) less the embedding cache's
    build, over the iterations."""
    text = stdout.read_text()
    figures = {"trainable": float("nan"), "text_trainable": 0.0, "s_per_iteration": float("nan")}
    total = re.search(r"(?m)^(?:.*: )?total +([\d,]+) ", text)
    if total:
        figures["trainable"] = float(total.group(1).replace(",", ""))
    encoder = re.search(r"(?m)^(?:.*: )?text_encoder +([\d,]+) ", text)
    if encoder:
        figures["text_trainable"] = float(encoder.group(1).replace(",", ""))
    epochs = [float(s) for s in re.findall(r"lr [0-9.e+-]+, ([0-9.]+) s", text)]
    cache = re.search(r"views\) encoded in ([0-9.]+) s", text)
    if epochs:
        spent = sum(epochs) - (float(cache.group(1)) if cache else 0.0)
        figures["s_per_iteration"] = spent / iterations
    return figures


def organ_metrics(summary: Path) -> dict[str, dict[str, float]]:
    """Class key -> {Dice, HD95} from a samseg summary.json (background left out)."""
    mean = json.loads(summary.read_text())["mean"]
    return {
        key: {"Dice": values["Dice"], "HD95": values.get("HD95", float("nan"))}
        for key, values in mean.items()
        if key != "0"
    }


def run_method(
    method: str, args: argparse.Namespace, work: Path, env: dict[str, str]
) -> dict[str, object]:
    """Train, predict and evaluate one method; its table row."""
    bin_dir = args.samseg_venv / "bin"
    trainer = f"Bench{METHODS[method]}"
    model = [DATASET_ID, SAMSEG_CONFIGURATION, "all", "-tr", trainer, "-p", SAMSEG_PLANS]
    logs = work / "logs"
    train = timed(f"{method}_train", [require(bin_dir / "samseg_train"), *model], env, logs)
    output = work / "predictions" / method
    timed(
        f"{method}_predict",
        [
            require(bin_dir / "samseg_predict"),
            *("-i", work / "raw" / DATASET / "imagesTs", "-o", output),
            *("-d", DATASET_ID, "-c", SAMSEG_CONFIGURATION, "-tr", trainer),
            *("-p", SAMSEG_PLANS, "-f", "all", "-device", "cpu", "--disable_tta"),
            *("-num_threads", args.threads),
        ],
        env,
        logs,
    )
    evaluate(args, work, output, env)
    return {
        "method": method,
        "trainer": trainer,
        "train_s": train,
        **log_figures(logs / f"{method}_train" / "stdout.txt", args.iterations),
        "organs": organ_metrics(work / "summaries" / f"{method}.json"),
    }


def write_heatmaps(args: argparse.Namespace, work: Path) -> list[Path]:
    """The classwise model's per-organ heatmaps of the slab's middle slice, as PNG files in
    ``args.heatmaps`` (``samseg.inference.pgsam_heatmaps``)."""
    from samseg.inference.model_loading import ModelFolder, load_trained_network
    from samseg.inference.pgsam_heatmaps import HeatmapRecorder
    from samseg.inference.slice_predictor import SlicePredictor

    name = f"Bench{METHODS['classwise']}__{SAMSEG_PLANS}__{SAMSEG_CONFIGURATION}"
    model = ModelFolder.open(work / "samseg" / "results" / DATASET / name)
    network = load_trained_network(model.folder / "fold_all" / "checkpoint_final.pth")
    recorder = HeatmapRecorder(network, args.heatmaps, {args.slab_width // 2})
    predictor = SlicePredictor(
        [recorder],
        model.plans,
        model.configuration,
        model.description,
        use_mirroring=False,
        show_progress=False,
    )
    images = sorted((work / "raw" / DATASET / "imagesTs").iterdir())
    predictor.predict_case(images[:1])
    return recorder.written


def print_table(rows: list[dict], labels: dict[str, int], metric: str) -> None:
    """One row per method: ``metric`` per organ and its mean, parameters, s/iteration."""
    names = {str(value): name for name, value in labels.items() if value != 0}
    keys = sorted(names, key=int)
    header = ["method", *(names[k] for k in keys), "mean", "trainable", "s/iter"]
    print(f"\n{metric}\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        values = [row["organs"].get(k, {}).get(metric, float("nan")) for k in keys]
        defined = [v for v in values if v == v]
        mean = sum(defined) / len(defined) if defined else float("nan")
        trainable = f"{row['trainable']:,.0f}"
        if row["text_trainable"]:
            trainable += f" (+{row['text_trainable']:,.0f} text)"
        cells = [row["method"], *(f"{v:.3f}" for v in values), f"{mean:.3f}", trainable]
        print("| " + " | ".join([*cells, f"{row['s_per_iteration']:.2f}"]) + " |")


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The benchmark's options; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS), help=f"of {','.join(METHODS)}")
    parser.add_argument("--iterations", type=int, default=200, help="training steps, every method")
    parser.add_argument("--batch", type=int, default=4, help="slices per step (default: 4)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs the steps are split into")
    parser.add_argument("--clip", type=Path, help="local CLIP checkpoint folder (default: random)")
    parser.add_argument("--slab-centre", type=int, default=86, help="middle held-out slice")
    parser.add_argument("--slab-width", type=int, default=17, help="held-out slices")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--abdomen", type=Path, default=ABDOMEN, help="raw Dataset901 folder")
    parser.add_argument("--samseg-venv", type=Path, default=REPO / ".venv")
    parser.add_argument("--work-dir", type=Path, help="keep everything here (a new folder)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument(
        "--heatmaps", type=Path, help="write the classwise model's slab-centre heatmaps here"
    )
    args = parser.parse_args(argv)
    args.methods = args.methods.split(",")
    if not set(args.methods) <= set(METHODS):
        parser.error(f"--methods takes a subset of {','.join(METHODS)}, found {args.methods}")
    if args.iterations % args.epochs:
        parser.error(f"--iterations: expected a multiple of --epochs {args.epochs}")
    if not (args.abdomen / "dataset.json").is_file():
        parser.error(f"--abdomen {args.abdomen}: expected a raw dataset, found no dataset.json")
    return args


def run(args: argparse.Namespace, work: Path) -> list[dict]:
    """Write the split dataset, preprocess it once, run the requested methods in turn."""
    split = SlabSplit.centred(args.slab_centre, args.slab_width)
    write_split_dataset(
        args.abdomen,
        "abd_001",
        split,
        work / "raw" / DATASET,
        description=f"abd_001 of Dataset901 without slices [{split.start}, {split.stop}) "
        "(imagesTr) and those slices (imagesTs)",
    )
    env = base_environment(work, args.threads)
    env["SAMSEG_pgsam_text"] = str(text_settings(args, work))
    trainers = work / "samseg" / "trainers"
    trainers.mkdir(parents=True)
    (trainers / "pgsam_bench.py").write_text(trainer_source(args))
    command = [require(args.samseg_venv / "bin" / "samseg_plan_and_preprocess")]
    command += ["-d", DATASET_ID, "-np", 1, "-pl", "LiteMedSAMPlanner"]
    timed("samseg_preprocess", command, env, work / "logs")
    rows = [run_method(method, args, work, env) for method in args.methods]
    if args.heatmaps and "classwise" in args.methods:
        written = write_heatmaps(args, work)
        print(f"{len(written)} heatmap overlays in {args.heatmaps}", file=sys.stderr)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; 1 when a stage fails."""
    args = parse_arguments(argv)
    start = time.perf_counter()
    try:
        if args.work_dir:
            args.work_dir.mkdir(parents=True)
            rows = run(args, args.work_dir.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="bench-pgsam-") as tmp:
                rows = run(args, Path(tmp))
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    text = f"CLIP {args.clip}" if args.clip else "a RANDOM CLIP text model (no language knowledge)"
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {args.threads} torch thread(s); "
        f"{args.iterations} iterations x batch {args.batch}; text embedded by {text}; "
        f"total {time.perf_counter() - start:.0f} s"
    )
    labels = json.loads((args.abdomen / "dataset.json").read_text())["labels"]
    for metric in ("Dice", "HD95"):
        print_table(rows, labels, metric)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
