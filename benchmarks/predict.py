"""Throughput, peak memory and agreement of samseg's slice predictor against a naive loop.

The naive reference predicts as the TransUNet and SAMed test scripts do: slice by slice
(batch 1, fp32), zoomed to the input with ``scipy.ndimage.zoom`` (order 3), the arg-max
zoomed back (order 0); it shares samseg's preprocessing, inputs, network and export. samseg
runs ``SlicePredictor`` without mirroring in fp32, bf16 and int8. Speed: one process runs
all methods interleaved for ``--repeats`` rounds, the fastest round counts (wall and CPU
time of reading, preprocessing, networks and export); encoder share from hooks around the
image encoder. Memory: each method alone in a fresh process (peak RSS, or peak CUDA
allocation). Agreement: random weights make Dice against a ground truth meaningless, so
labels are compared with samseg-fp32's and the naive loop's, and probabilities with fp32's.
See documentation/inference.md. From the repository root::

    python benchmarks/predict.py                          # CPU: vit_b at 512, 8 slices
    python benchmarks/predict.py --slices 200 --methods samseg-int8 --repeats 1  # memory
    python benchmarks/predict.py --device cuda            # GPU: bf16 at 512 and 1024
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from predict_inputs import (
    ABDOMEN_CT,
    NUM_CLASSES,
    SIDE,
    benchmark_description,
    benchmark_plans,
    make_volume,
    naive_loop,
)

from samseg.inference import SlicePredictor
from samseg.models import build_sam
from samseg.plans import Plans

MIB = 1024 * 1024
CPU_METHODS = ("naive", "samseg-fp32", "samseg-bf16", "samseg-int8")
CONFIDENT_MARGIN = 0.05
T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """What every measurement shares."""

    model_type: str
    threads: int
    device: str
    batch_size: int | None


@dataclass(frozen=True)
class Timing:
    """One prediction of the volume, seconds."""

    wall: float
    cpu: float
    encoder: float


def peak_memory_mib(device: torch.device) -> float:
    """Peak resident set size of this process (CPU) or peak allocated GPU memory, MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


class EncoderClock:
    """Seconds spent in image encoders, summed until :meth:`reset`.

    SamSegmenter runs the encoder's parts itself (``samseg.models.encoder.encode_image``), so
    the clock starts before the patch embedding and stops after the neck.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds = 0.0
        self._started: list[float] = []
        self._attached: list[torch.nn.Module] = []

    def attach(self, encoder: torch.nn.Module) -> None:
        """Time ``encoder`` (once, however often it is attached)."""
        if any(encoder is known for known in self._attached):
            return
        self._attached.append(encoder)
        encoder.patch_embed.register_forward_pre_hook(self._start)
        encoder.neck.register_forward_hook(self._stop)

    def reset(self) -> None:
        self.seconds = 0.0

    def _start(self, *_: object) -> None:
        self._started.append(time.perf_counter())

    def _stop(self, *_: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - self._started.pop()


def seeded_network(options: Options, input_size: int) -> torch.nn.Module:
    """The benchmark's randomly initialised network (seed 0), fp32."""
    torch.manual_seed(0)
    return build_sam(
        options.model_type, input_size, None, num_classes=NUM_CLASSES, precision="fp32"
    )


def build_predictor(
    method: str, network: torch.nn.Module, plans: Plans, options: Options
) -> SlicePredictor:
    """samseg's predictor for ``method`` (``samseg-<precision>``); mirroring off."""
    return SlicePredictor(
        [network],
        plans,
        next(iter(plans.configurations)),
        benchmark_description(plans),
        device=torch.device(options.device),
        use_mirroring=False,
        precision=method.removeprefix("samseg-"),
        batch_size=options.batch_size,
        show_progress=False,
    )


def build_methods(
    methods: Sequence[str], input_size: int, image_path: Path, options: Options
) -> tuple[dict[str, Callable[[], np.ndarray]], dict[str, float], EncoderClock]:
    """For each method a function predicting the volume, its setup seconds, and the clock."""
    device = torch.device(options.device)
    plans = benchmark_plans(image_path, input_size)
    clock = EncoderClock(device)
    network = seeded_network(options, input_size).to(device)
    runs: dict[str, Callable[[], np.ndarray]] = {}
    setup: dict[str, float] = {}
    for method in methods:
        start = time.perf_counter()
        if method == "naive":
            clock.attach(network.image_encoder)
            runs[method] = partial(naive_loop, image_path, plans, network, device)
        else:
            predictor = build_predictor(method, network, plans, options)
            clock.attach(predictor.networks[0].network.image_encoder)
            runs[method] = partial(predicted_labels, predictor, image_path)
        setup[method] = time.perf_counter() - start
    return runs, setup, clock


def predicted_labels(predictor: SlicePredictor, image_path: Path) -> np.ndarray:
    """samseg's (z, y, x) labels of the volume."""
    return predictor.predict_case([image_path]).segmentation


def measure_speed(
    methods: Sequence[str], input_size: int, image_path: Path, options: Options, repeats: int
) -> tuple[dict[str, list[Timing]], dict[str, float], float]:
    """Interleaved timings and setup seconds of every method, and the peak memory (MiB) of
    this process (run it in a fresh one); labels are saved beside the image as
    ``<method>_<size>.npy``."""
    torch.set_num_threads(options.threads)
    runs, setup, clock = build_methods(methods, input_size, image_path, options)
    timings: dict[str, list[Timing]] = {method: [] for method in methods}
    for _ in range(repeats):
        for method, run in runs.items():
            clock.reset()
            wall, cpu = time.perf_counter(), time.process_time()
            segmentation = run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            timings[method].append(Timing(wall, cpu, clock.seconds))
            print(f"{method} at {input_size}: {wall:.1f} s", file=sys.stderr, flush=True)
            np.save(image_path.parent / f"{method}_{input_size}.npy", segmentation)
    return timings, setup, peak_memory_mib(torch.device(options.device))


def measure_memory(method: str, input_size: int, image_path: Path, options: Options) -> float:
    """Peak memory (MiB) of building ``method`` and predicting the volume once, alone."""
    torch.set_num_threads(options.threads)
    runs, _, _ = build_methods([method], input_size, image_path, options)
    runs[method]()
    return peak_memory_mib(torch.device(options.device))


def probabilities_of(method: str, input_size: int, image_path: Path, options: Options) -> str:
    """Save samseg's (C, z, y, x) probabilities of the volume with ``method``; return the file."""
    torch.set_num_threads(options.threads)
    plans = benchmark_plans(image_path, input_size)
    predictor = build_predictor(method, seeded_network(options, input_size), plans, options)
    probabilities = predictor.predict_case([image_path], return_probabilities=True).probabilities
    output = image_path.parent / f"{method}_{input_size}_probabilities.npy"
    np.save(output, probabilities)
    return str(output)


def agreement_table(files: dict[str, str], margin: float) -> str:
    """How far each precision's probabilities and labels are from fp32's, as markdown."""
    reference = np.load(files["samseg-fp32"])
    top_two = np.sort(reference, axis=0)[-2:]
    margins = top_two[1] - top_two[0]
    labels = reference.argmax(0)
    lines = [
        "| method | max abs probability difference vs fp32 | voxels labelled differently "
        f"| of them where fp32's top-two margin > {margin} | median fp32 margin |",
        "|---|---|---|---|---|",
    ]
    for method, path in files.items():
        probabilities = np.load(path)
        changed = probabilities.argmax(0) != labels
        confident_changes = int(np.count_nonzero(changed & (margins > margin)))
        lines.append(
            f"| {method} | {np.abs(probabilities - reference).max():.1e} "
            f"| {100 * changed.mean():.2f}% | {confident_changes} "
            f"| {np.median(margins):.4f} |"
        )
    return "\n".join(lines)


def in_child(function: Callable[..., T], *args: object) -> T:
    """Run ``function(*args)`` in a fresh spawned process and return its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def mean_dice(first: np.ndarray, second: np.ndarray) -> float:
    """Mean Dice (percent) over foreground labels present in either segmentation."""
    scores = []
    for value in np.union1d(np.unique(first), np.unique(second)):
        if value == 0:
            continue
        a, b = first == value, second == value
        scores.append(2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)))
    return 100 * float(np.mean(scores)) if scores else 100.0


def table(
    timings: dict[str, list[Timing]],
    setup: dict[str, float],
    memory: dict[str, float],
    folder: Path,
    input_size: int,
    num_slices: int,
) -> str:
    """The results at one input size as a markdown table."""
    labels = {method: np.load(folder / f"{method}_{input_size}.npy") for method in timings}
    best = {method: min(runs, key=lambda t: t.wall) for method, runs in timings.items()}
    cpu = {method: min(t.cpu for t in runs) for method, runs in timings.items()}
    lines = [
        "| method | input | slices/s | wall s | CPU s | speed-up vs naive (wall / CPU) "
        "| encoder share | peak memory (MiB) | Dice vs samseg-fp32 | Dice vs naive | setup s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for method, timing in best.items():
        naive = best.get("naive")
        speed_up = (
            f"{naive.wall / timing.wall:.2f}x / {cpu['naive'] / cpu[method]:.2f}x" if naive else "-"
        )
        dice = [
            f"{mean_dice(labels[method], labels[other]):.2f}" if other in labels else "-"
            for other in ("samseg-fp32", "naive")
        ]
        cells = [
            method,
            str(input_size),
            f"{num_slices / timing.wall:.3f}",
            f"{timing.wall:.1f}",
            f"{cpu[method]:.1f}",
            speed_up,
            f"{100 * timing.encoder / timing.wall:.1f}%",
            f"{memory[method]:,.0f}" if method in memory else "-",
            *dice,
            f"{setup[method]:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=8, help="slices of the test volume")
    parser.add_argument("--model-type", default="vit_b")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        help=f"among {', '.join(CPU_METHODS)} (default: all on the CPU, samseg-bf16 on CUDA)",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="input sizes (CPU 512; CUDA 512 1024)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=None, help="samseg batch size")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the memory runs (one per method)"
    )
    parser.add_argument(
        "--agreement-slices",
        type=int,
        default=2,
        help="slices on which samseg's precisions are compared voxel by voxel (0: skip)",
    )
    args = parser.parse_args()
    cuda = args.device == "cuda"
    methods = args.methods or (["samseg-bf16"] if cuda else list(CPU_METHODS))
    sizes = args.sizes or ([512, 1024] if cuda else [512])
    options = Options(args.model_type, args.threads, args.device, args.batch_size)

    source = "abdominal CT slab" if ABDOMEN_CT.is_file() else "synthetic CT"
    device = torch.cuda.get_device_name() if cuda else f"CPU, {args.threads} threads"
    print(
        f"{args.model_type}, random weights, {args.slices} x {SIDE} x {SIDE} {source}, {device}, "
        f"torch {torch.__version__}, load average before {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        image_path = make_volume(folder, args.slices)
        for size in sizes:
            timings, setup, peak = in_child(
                measure_speed, methods, size, image_path, options, args.repeats
            )
            memory = {methods[0]: peak} if len(methods) == 1 else {}
            if len(methods) > 1 and not args.no_memory:
                memory = {
                    m: in_child(measure_memory, m, size, image_path, options) for m in methods
                }
            print(table(timings, setup, memory, folder, size, args.slices))
        samseg_methods = [m for m in methods if m.startswith("samseg-")]
        if args.agreement_slices and "samseg-fp32" in samseg_methods:
            small = folder / "agreement"
            small.mkdir()
            small_image = make_volume(small, args.agreement_slices)
            files = {
                method: in_child(probabilities_of, method, sizes[0], small_image, options)
                for method in samseg_methods
            }
            print(f"\nAgreement with fp32 on {args.agreement_slices} slices at {sizes[0]}:")
            print(agreement_table(files, CONFIDENT_MARGIN))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
