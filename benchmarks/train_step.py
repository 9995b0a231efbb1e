"""Seconds per training iteration, share spent waiting for data, and peak memory of the trainers.

SAMLoRATrainer and SAMFullFineTuneTrainer on vit_b at 512 pixels, batch 2, through the trainers'
own code path: network, freezing, optimizer and schedule, mixed precision (bf16 or fp16 autocast
on CUDA, fp32 on the CPU), CPU thread policy and epoch loop, fed by the slice loader with two
background workers (with augmentation) from the preprocessed demo dataset (made in a temporary
folder). Weights are random (the speed does not depend on them). Each trainer runs in its own
process, so peak memory is its own: the process's peak resident set on the CPU, the peak CUDA
memory allocated on a GPU.

    python benchmarks/train_step.py                       # CPU, 1 warm-up + 3 timed iterations
    python benchmarks/train_step.py --device cuda --iterations 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

TRAINERS = ("SAMLoRATrainer", "SAMFullFineTuneTrainer")
DATASET = "Dataset001_Demo"
CONFIGURATION = "2d_512"
MODEL_TYPE = "vit_b"
BATCH_SIZE = 2
NUM_WORKERS = 2


def prepare_data(root: Path) -> None:
    """The demo dataset, planned (default planner: 2d_512) and preprocessed under ``root``."""
    from samseg.conversion import make_demo_dataset
    from samseg.planning.workflow import plan_and_preprocess

    make_demo_dataset(root / "raw")
    plan_and_preprocess(DATASET, configurations=[CONFIGURATION], num_processes=2)


def measure(trainer_name: str, device: str, warmup: int, iterations: int) -> dict:
    """Time ``iterations`` steps of ``trainer_name`` after ``warmup`` steps (in this process)."""
    import torch

    from samseg.paths import preprocessed_root
    from samseg.plans import Plans
    from samseg.training import trainer_class
    from samseg.training.loop import train_epoch

    base = trainer_class(trainer_name)
    variant = type(
        trainer_name,
        (base,),
        {
            "batch_size": BATCH_SIZE,
            "num_workers": NUM_WORKERS,
            "num_iterations_per_epoch": warmup + iterations,
        },
    )
    plans = Plans.load(preprocessed_root() / DATASET / "samsegPlans.json")
    trainer = variant(
        plans=plans,
        configuration=CONFIGURATION,
        fold=0,
        device=torch.device(device),
        sam_checkpoint="none",
        model_type=MODEL_TYPE,
        show_progress=False,
    )
    trainer.initialize()
    trainer.network.train()
    with trainer.make_loader(trainer.train_ids, 0, training=True) as batches:
        train_epoch(trainer.step, batches, warmup, label="warm-up", show_progress=False)
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timed = train_epoch(trainer.step, batches, iterations, label="timed", show_progress=False)
    if device == "cuda":
        peak_gib = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    trainable = sum(p.numel() for p in trainer.network.parameters() if p.requires_grad)
    return {
        "trainer": trainer_name,
        "device": device,
        "precision": trainer.mixed.description,
        "threads": torch.get_num_threads(),
        "trainable_millions": trainable / 1e6,
        "seconds_per_iteration": timed.seconds / iterations,
        "data_wait_share": timed.data_wait_share,
        "peak_memory_gib": peak_gib,
    }


def format_table(rows: list[dict]) -> str:
    header = (
        "trainer",
        "device",
        "precision",
        "threads",
        "trainable (M)",
        "s / iteration",
        "data wait",
        "peak memory (GiB)",
    )
    lines = [
        " | ".join(header),
        " | ".join("---" for _ in header),
    ]
    for row in rows:
        lines.append(
            f"{row['trainer']} | {row['device']} | {row['precision']} | {row['threads']} | "
            f"{row['trainable_millions']:.2f} | {row['seconds_per_iteration']:.2f} | "
            f"{100 * row['data_wait_share']:.2f}% | {row['peak_memory_gib']:.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations first")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations")
    parser.add_argument("--trainers", nargs="+", default=list(TRAINERS))
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.device, args.warmup, args.iterations)))
        return
    with tempfile.TemporaryDirectory(prefix="samseg-train-bench-") as temporary:
        root = Path(temporary)
        environment = {
            **os.environ,
            "SAMSEG_raw": str(root / "raw"),
            "SAMSEG_preprocessed": str(root / "preprocessed"),
            "SAMSEG_results": str(root / "results"),
        }
        os.environ.update(environment)
        prepare_data(root)
        rows = []
        for name in args.trainers:
            command = [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--device",
                args.device,
                "--warmup",
                str(args.warmup),
                "--iterations",
                str(args.iterations),
            ]
            result = subprocess.run(
                command, env=environment, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
            rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    print(
        f"vit_b at 512 px, batch {BATCH_SIZE}, {NUM_WORKERS} loader workers, "
        f"{args.iterations} timed iterations after {args.warmup} warm-up; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    print(format_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
