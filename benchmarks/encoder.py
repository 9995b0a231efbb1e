"""Benchmark SAM's image encoder: segment_anything's stock attention vs samseg's SDPA path.

Prints a markdown table of images/s and peak memory for each configuration: on the CPU
(fp32, and bf16 autocast with --cpu-bf16) and, when one is present, on a CUDA GPU (fp32 and
bf16 autocast). Networks are randomly initialised (vit_b by default, at 512 and 1024).

- Speed: one process per device and input size builds the network once and, after one
  warm-up forward per configuration, times ``--rounds`` rounds in which every configuration
  runs one forward in turn (switching attention path and precision on the same weights);
  the median time per forward gives images/s. Interleaving makes load from other processes
  hit all configurations alike.
- Memory: one fresh process per configuration runs one forward. CPU: peak resident set size
  of the process (``resource.getrusage``; includes the Python runtime and the weights;
  "before" is the peak after building). GPU: ``torch.cuda.max_memory_allocated`` ("before":
  memory allocated after building).

Run from the repository root:

    PYTHONPATH=. python benchmarks/encoder.py                  # vit_b at 512 and 1024
    PYTHONPATH=. python benchmarks/encoder.py --batch 4 --rounds 5 --sizes 1024 --cpu-bf16
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import torch

MIB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    """One benchmarked configuration."""

    device: str
    input_size: int
    attention: str
    precision: str


@dataclass(frozen=True)
class Options:
    """Command-line options every measurement needs."""

    model_type: str
    batch: int
    rounds: int
    threads: int


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def build(setting: Setting, options: Options) -> tuple[torch.nn.Module, torch.Tensor]:
    """A randomly initialised network for ``setting`` and a batch of random images."""
    from samseg.models import build_sam

    torch.set_num_threads(options.threads)
    torch.manual_seed(0)
    device = torch.device(setting.device)
    model = build_sam(options.model_type, setting.input_size, None).to(device)
    size = setting.input_size
    return model, 255 * torch.rand(options.batch, 3, size, size, device=device)


def configure(model: torch.nn.Module, setting: Setting) -> None:
    """Switch ``model`` to the attention path and precision of ``setting``."""
    from samseg.models import use_fast_attention

    use_fast_attention(model.image_encoder, setting.attention == "sdpa")
    model.precision = setting.precision


def timed_forward(model: torch.nn.Module, images: torch.Tensor) -> float:
    """Seconds one encoder forward takes."""
    cuda = images.device.type == "cuda"
    start = time.perf_counter()
    with torch.inference_mode():
        model.encode(images)
    if cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def measure_speed(settings: list[Setting], options: Options) -> list[tuple[float, str]]:
    """Median seconds per forward of each setting (same device and size), interleaved.

    A setting that fails (e.g. out of memory) gets NaN and the first line of its error.
    """
    model, images = build(settings[0], options)
    times: list[list[float]] = [[] for _ in settings]
    errors = [""] * len(settings)
    for round_index in range(options.rounds + 1):
        for index, setting in enumerate(settings):
            if errors[index]:
                continue
            configure(model, setting)
            try:
                seconds = timed_forward(model, images)
            except RuntimeError as error:
                errors[index] = str(error).splitlines()[0][:100]
                continue
            if round_index:
                times[index].append(seconds)
    return [
        (statistics.median(values) if values else math.nan, error)
        for values, error in zip(times, errors, strict=True)
    ]


def measure_memory(setting: Setting, options: Options) -> tuple[float, float]:
    """Memory (MiB) after building and at the peak of one forward, in a fresh process."""
    model, images = build(setting, options)
    configure(model, setting)
    cuda = images.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated() / MIB if cuda else peak_rss_mib()
    timed_forward(model, images)
    return before, torch.cuda.max_memory_allocated() / MIB if cuda else peak_rss_mib()


def in_child(function: Callable[..., object], *args: object) -> object:
    """Run ``function(*args)`` in a fresh spawned process and return its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def settings(sizes: list[int], cpu_bf16: bool) -> list[Setting]:
    """Every configuration to run: CPU always, CUDA when available."""
    runs = []
    for size in sizes:
        runs += [Setting("cpu", size, attention, "fp32") for attention in ("stock", "sdpa")]
        if cpu_bf16:
            runs += [Setting("cpu", size, attention, "bf16") for attention in ("stock", "sdpa")]
        if torch.cuda.is_available():
            runs += [
                Setting("cuda", size, attention, precision)
                for precision in ("fp32", "bf16")
                for attention in ("stock", "sdpa")
            ]
    return runs


def table(
    rows: list[tuple[Setting, tuple[float, str], tuple[float, float]]], options: Options
) -> str:
    """The results as a markdown table, with the speed of sdpa relative to stock."""
    stock = {
        (setting.device, setting.input_size, setting.precision): seconds
        for setting, (seconds, _), _ in rows
        if setting.attention == "stock"
    }
    lines = [
        "| model | device | input | attention | precision | batch | images/s | vs stock "
        "| memory before (MiB) | peak memory (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, (seconds, error), (before, peak) in rows:
        head = (
            f"| {options.model_type} | {setting.device} | {setting.input_size} "
            f"| {setting.attention} | {setting.precision} | {options.batch} "
        )
        if error:
            lines.append(f"{head}| failed: {error} | | | |")
            continue
        base = stock[(setting.device, setting.input_size, setting.precision)]
        lines.append(
            f"{head}| {options.batch / seconds:.3f} | {base / seconds:.2f}x "
            f"| {before:,.0f} | {peak:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-type", default="vit_b")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--batch", type=int, default=1, help="images per forward")
    parser.add_argument("--rounds", type=int, default=3, help="timed forwards per setting")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--cpu-bf16", action="store_true", help="also bf16 autocast on CPU")
    args = parser.parse_args()
    options = Options(args.model_type, args.batch, args.rounds, args.threads)

    groups: dict[tuple[str, int], list[Setting]] = {}
    for setting in settings(args.sizes, args.cpu_bf16):
        groups.setdefault((setting.device, setting.input_size), []).append(setting)
    rows = []
    for group in groups.values():
        speeds = in_child(measure_speed, group, options)
        for setting, speed in zip(group, speeds, strict=True):
            memory = (
                (math.nan, math.nan) if speed[1] else in_child(measure_memory, setting, options)
            )
            rows.append((setting, speed, memory))
            print(f"done: {setting} {speed} {memory}", file=sys.stderr, flush=True)
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}, {args.threads} CPU threads, GPU: {gpu}")
    print(table(rows, options))


if __name__ == "__main__":
    main()
