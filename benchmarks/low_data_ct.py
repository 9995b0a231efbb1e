"""One labelled scan: LiteMedSAM fine-tuning (decoder-only, LoRA) against nnU-Net v2 ``2d``.

``shared/data/Dataset901_AbdomenCTExample`` (one abdominal CT, 112 slices along the array's
first axis, organs in slices 61-111) is cut into a held-out slab (17 slices centred on slice
86 by default) and the rest (two training cases: the slices below and above the slab), with
exact geometry (``volume_split``). Each method trains on the two training cases (fold
``all``), predicts the slab, and samseg's evaluation scores every prediction against the
slab's label, so the Dice values come from one metric code. The table gives Dice per organ,
wall time per stage and iterations x batch per method.

samseg's trainers and nnU-Net's trainer are benchmark subclasses with an iteration budget,
written into the work folder (samseg's through ``SAMSEG_extTrainer``) or into nnU-Net's venv
(nnU-Net finds trainers only inside its package). Neither runs its final validation on the
training cases (the slab is the test), and no method mirrors at test time (a trainer on cached
embeddings cannot). nnU-Net lives in its own venv, made as ``plan_and_preprocess.py`` makes
it::

    python benchmarks/low_data_ct.py --iterations 250 --batch 4 --lora-iterations 40 --lora-batch 2
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

import psutil
from low_data_trainers import nnunet_trainer_source, samseg_trainer_source
from plan_and_preprocess import (
    ABDOMEN,
    BenchmarkError,
    cpu_model,
    ensure_nnunet_venv,
    measure,
    require,
)
from volume_split import SlabSplit, write_split_dataset

REPO = Path(__file__).resolve().parents[1]
DATASET_ID = 950
DATASET = f"Dataset{DATASET_ID:03d}_AbdomenCTOneScan"
SAMSEG_PLANS = "samsegLiteMedSAMPlans"
SAMSEG_CONFIGURATION = "2d_256"
NNUNET_TRAINER = "nnUNetTrainerLowDataBench"
METHODS = ("decoder", "lora", "nnunet")
NNUNET_PREDICT = """
import sys
import torch
from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

model, images, output, threads = sys.argv[1:5]
torch.set_num_threads(int(threads))
predictor = nnUNetPredictor(use_mirroring=False, device=torch.device("cpu"), allow_tqdm=False)
predictor.initialize_from_trained_model_folder(model, use_folds=("all",))
predictor.predict_from_files(images, output, num_processes_preprocessing=1,
                             num_processes_segmentation_export=1)
"""


def base_environment(work: Path, threads: int) -> dict[str, str]:
    """The environment of every tool: one raw root, per-tool preprocessed/results roots."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("nnUNet_", "SAMSEG_"))}
    env.update(
        SAMSEG_raw=str(work / "raw"),
        SAMSEG_preprocessed=str(work / "samseg" / "preprocessed"),
        SAMSEG_results=str(work / "samseg" / "results"),
        SAMSEG_extTrainer=str(work / "samseg" / "trainers"),
        nnUNet_raw=str(work / "raw"),
        nnUNet_preprocessed=str(work / "nnunet" / "preprocessed"),
        nnUNet_results=str(work / "nnunet" / "results"),
        nnUNet_compile="false",
        nnUNet_n_proc_DA="2",
        nnUNet_def_n_proc="1",
        CUDA_VISIBLE_DEVICES="",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
    )
    return env


def timed(name: str, command: Sequence[str | Path], env: dict[str, str], logs: Path) -> float:
    """Run one stage, its stdout/stderr kept in ``logs/name``; return its wall seconds."""
    folder = logs / name
    folder.mkdir(parents=True)
    print(f"{time.strftime('%H:%M:%S')} {name} ...", file=sys.stderr, flush=True)
    wall, _ = measure([str(c) for c in command], env, folder)
    print(f"{time.strftime('%H:%M:%S')} {name}: {wall:.0f} s", file=sys.stderr, flush=True)
    return wall


def cache_seconds(train_log: Path) -> float:
    """Seconds the embedding cache took to build, from a samseg training's stdout (0: none)."""
    found = re.search(r"views\) encoded in ([0-9.]+) s", train_log.read_text())
    return float(found.group(1)) if found else 0.0


def organ_dice(summary_file: Path) -> dict[str, float]:
    """Class key -> mean Dice from a samseg (nnU-Net format) summary.json."""
    summary = json.loads(summary_file.read_text())
    return {key: values["Dice"] for key, values in summary["mean"].items() if key != "0"}


def run_samseg(args: argparse.Namespace, work: Path, env: dict[str, str]) -> list[dict]:
    """Preprocess once, then train, predict and evaluate each requested samseg method."""
    bin_dir = args.samseg_venv / "bin"
    logs = work / "logs"
    trainers = work / "samseg" / "trainers"
    trainers.mkdir(parents=True)
    (trainers / "low_data_bench.py").write_text(samseg_trainer_source(args))
    command = [require(bin_dir / "samseg_plan_and_preprocess"), "-d", DATASET_ID, "-np", 1]
    preprocess = timed("samseg_preprocess", [*command, "-pl", "LiteMedSAMPlanner"], env, logs)
    rows = []
    names = {"decoder": "BenchDecoderOnlyTrainer", "lora": "BenchLoRATrainer"}
    for method in (m for m in ("decoder", "lora") if m in args.methods):
        trainer, output = names[method], work / "predictions" / method
        model = [DATASET_ID, SAMSEG_CONFIGURATION, "all", "-tr", trainer, "-p", SAMSEG_PLANS]
        train = timed(
            f"{method}_train",
            [require(bin_dir / "samseg_train"), *model, "-device", "cpu"],
            env,
            logs,
        )
        predict = timed(
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
        iterations = args.iterations if method == "decoder" else args.lora_iterations
        batch = args.batch if method == "decoder" else args.lora_batch
        rows.append(
            {
                "method": f"samseg {trainer}",
                "iterations": iterations,
                "batch": batch,
                "preprocess_s": preprocess,
                "train_s": train,
                "cache_s": cache_seconds(logs / f"{method}_train" / "stdout.txt"),
                "predict_s": predict,
                "dice": evaluate(args, work, output, env),
            }
        )
    return rows


def evaluate(args: argparse.Namespace, work: Path, output: Path, env: dict[str, str]) -> dict:
    """Score ``output`` against the slab's label with samseg_evaluate; class key -> Dice."""
    summary = work / "summaries" / f"{output.name}.json"
    summary.parent.mkdir(exist_ok=True)
    timed(
        f"{output.name}_evaluate",
        [
            require(args.samseg_venv / "bin" / "samseg_evaluate"),
            *("-ref", work / "raw" / DATASET / "labelsTs", "-pred", output),
            *("-d", DATASET_ID, "-o", summary),
        ],
        env,
        work / "logs",
    )
    return organ_dice(summary)


def run_nnunet(args: argparse.Namespace, work: Path, env: dict[str, str]) -> dict:
    """nnU-Net v2 2d: plan and preprocess, train the budget trainer, predict, evaluate."""
    bin_dir = ensure_nnunet_venv(args.nnunet_venv.expanduser()).parent
    python = bin_dir / "python"
    site = python.parent.parent / "lib"
    package = next(site.glob("python3*/site-packages/nnunetv2/training/nnUNetTrainer"))
    # Top level of nnU-Net's trainer package: its lookup imports the top-level modules first
    # and finds the class before it imports primus/ (which needs timm, hence torchvision).
    (package / "samseg_low_data_bench.py").write_text(nnunet_trainer_source(args))
    logs = work / "logs"
    preprocess = timed(
        "nnunet_preprocess",
        [bin_dir / "nnUNetv2_plan_and_preprocess", "-d", DATASET_ID, "-c", "2d", "-np", 1,
         "-npfp", 1],
        env,
        logs,
    )
    plans = json.loads(
        (work / "nnunet" / "preprocessed" / DATASET / "nnUNetPlans.json").read_text()
    )
    batch = plans["configurations"]["2d"]["batch_size"]
    train = timed(
        "nnunet_train",
        [bin_dir / "nnUNetv2_train", DATASET_ID, "2d", "all", "-tr", NNUNET_TRAINER, "-device",
         "cpu"],
        env,
        logs,
    )
    output = work / "predictions" / "nnunet"
    model = work / "nnunet" / "results" / DATASET / f"{NNUNET_TRAINER}__nnUNetPlans__2d"
    images = work / "raw" / DATASET / "imagesTs"
    predict = timed(
        "nnunet_predict",
        [python, "-c", NNUNET_PREDICT, model, images, output, args.threads],
        env,
        logs,
    )
    return {
        "method": f"nnU-Net 2d {NNUNET_TRAINER}",
        "iterations": args.iterations,
        "batch": batch,
        "preprocess_s": preprocess,
        "train_s": train,
        "cache_s": 0.0,
        "predict_s": predict,
        "dice": evaluate(args, work, output, env),
    }


def print_table(rows: list[dict], labels: dict[str, int]) -> None:
    """One row per method: iterations x batch, wall seconds per stage, Dice per organ, mean."""
    names = {str(value): name for name, value in labels.items() if value != 0}
    organs = [names[key] for key in sorted(names, key=int)]
    header = ["method", "iter x batch", "prep s", "train s", "(cache s)", "pred s", *organs, "mean"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        dice = [row["dice"].get(key, float("nan")) for key in sorted(names, key=int)]
        mean = sum(dice) / len(dice)
        cells = [
            row["method"],
            f"{row['iterations']} x {row['batch']}",
            f"{row['preprocess_s']:.0f}",
            f"{row['train_s']:.0f}",
            f"{row['cache_s']:.0f}",
            f"{row['predict_s']:.0f}",
            *(f"{d:.3f}" for d in dice),
            f"{mean:.3f}",
        ]
        print("| " + " | ".join(cells) + " |")


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The benchmark's options; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS), help="of decoder,lora,nnunet")
    parser.add_argument(
        "--iterations", type=int, default=250, help="decoder-only and nnU-Net training steps"
    )
    parser.add_argument("--batch", type=int, default=4, help="decoder-only batch (default: 4)")
    parser.add_argument("--lora-iterations", type=int, default=40, help="LoRA training steps")
    parser.add_argument("--lora-batch", type=int, default=2, help="LoRA batch (default: 2)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs the steps are split into")
    parser.add_argument("--slab-centre", type=int, default=86, help="middle held-out slice")
    parser.add_argument("--slab-width", type=int, default=17, help="held-out slices")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--abdomen", type=Path, default=ABDOMEN, help="raw Dataset901 folder")
    parser.add_argument(
        "--nnunet-venv",
        type=Path,
        default=Path.home() / ".cache" / "samseg-bench" / "nnunet-venv",
        help="nnU-Net's virtual environment, built when missing",
    )
    parser.add_argument("--samseg-venv", type=Path, default=REPO / ".venv")
    parser.add_argument("--work-dir", type=Path, help="keep everything here (a new folder)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    args.methods = args.methods.split(",")
    if not set(args.methods) <= set(METHODS):
        parser.error(f"--methods takes a subset of {','.join(METHODS)}, found {args.methods}")
    if args.iterations % args.epochs or args.lora_iterations % args.epochs:
        parser.error(f"--iterations and --lora-iterations: expected multiples of --epochs "
                     f"{args.epochs}, found {args.iterations} and {args.lora_iterations}")
    if not (args.abdomen / "dataset.json").is_file():
        parser.error(f"--abdomen {args.abdomen}: expected a raw dataset, found no dataset.json")
    return args


def run(args: argparse.Namespace, work: Path) -> list[dict]:
    """Write the split dataset under ``work`` and run the requested methods in turn."""
    split = SlabSplit.centred(args.slab_centre, args.slab_width)
    cases = write_split_dataset(
        args.abdomen,
        "abd_001",
        split,
        work / "raw" / DATASET,
        description=f"abd_001 of Dataset901 without slices [{split.start}, {split.stop}) "
        "(imagesTr: the slices below and above) and those slices (imagesTs)",
    )
    print(f"split: {cases}, slab [{split.start}, {split.stop})", file=sys.stderr)
    env = base_environment(work, args.threads)
    rows = run_samseg(args, work, env) if {"decoder", "lora"} & set(args.methods) else []
    if "nnunet" in args.methods:
        rows.append(run_nnunet(args, work, env))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; 1 when a stage fails."""
    args = parse_arguments(argv)
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        if args.work_dir:
            args.work_dir.mkdir(parents=True)
            rows = run(args, args.work_dir.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="bench-lowdata-") as tmp:
                rows = run(args, Path(tmp))
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    machine = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_1min_start": round(load_start, 2),
        "load_1min_end": round(os.getloadavg()[0], 2),
        "total_s": round(time.perf_counter() - start),
    }
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"load {machine['load_1min_start']} -> {machine['load_1min_end']}, "
        f"{args.threads} torch thread(s) per process, total {machine['total_s']} s"
    )
    labels = json.loads((args.abdomen / "dataset.json").read_text())["labels"]
    print_table(rows, labels)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
