"""Throughput, peak memory and agreement of samseg's slice predictor against a naive loop.

The naive reference is how the TransUNet and SAMed test scripts predict a volume: one slice
at a time (batch 1, fp32), the slice zoomed to the network input with ``scipy.ndimage.zoom``
(order 3), the arg-max zoomed back (order 0). It runs on the same preprocessed data (the same
three-channel inputs with context slices), the same network and the same export into the raw
geometry as samseg, so only the slice loop differs.

samseg runs :class:`~samseg.inference.SlicePredictor` (no mirroring, like the naive loop) in
fp32, bf16 autocast and int8 (dynamic quantization of the image encoder's linear layers).
Every method runs in a fresh process; each measure is the minimum over ``--repeats`` rounds
(methods interleaved), memory is the process's peak resident set size (CPU) or
``torch.cuda.max_memory_allocated`` (GPU).

- **slices/s**: slices of the volume over the wall time of one whole case: reading,
  preprocessing, the networks, export (network building and quantization excluded).
- **encoder share**: time inside the image encoder's forward (hooks) over that wall time.
- **Dice vs ...**: mean over foreground labels present in either segmentation. The network
  has random weights, so Dice against the ground truth means nothing; Dice against the fp32
  samseg and naive results says how much the faster paths change the output.

The volume is the real abdominal CT of ``../shared/data`` (a slab of ``--slices`` slices,
each resized to 512 x 512, 3 mm slices), or a synthetic 512 x 512 CT-like one when that is
absent. Run from the repository root::

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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np
import SimpleITK as sitk
import torch
from scipy import ndimage

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.inference import SegmentationExporter, SlicePredictor
from samseg.io import SimpleITKIO
from samseg.models import build_sam
from samseg.planning.plans import ChannelNormalization, LabelHandling, Plans, SliceConfiguration
from samseg.preprocessing import preprocess_case
from samseg.slices import sam_input_slices

REPO = Path(__file__).resolve().parents[1]
ABDOMEN_CT = REPO.parent / "shared/data/Dataset901_AbdomenCTExample/imagesTr/abd_001_0000.nii.gz"
SIDE = 512
SLICE_SPACING = 3.0
NUM_CLASSES = 9
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
class Measurement:
    """One method's run on the volume."""

    method: str
    input_size: int
    wall_s: float
    encoder_s: float
    setup_s: float
    peak_mib: float
    segmentation: str


def make_volume(folder: Path, num_slices: int) -> Path:
    """Write the benchmark CT (num_slices, 512, 512) int16 HU as NIfTI; return its path."""
    if ABDOMEN_CT.is_file():
        ct = sitk.GetArrayFromImage(sitk.ReadImage(str(ABDOMEN_CT))).astype(np.float32)
        middle = ct.shape[0] // 2
        indices = np.clip(np.arange(num_slices) + middle - num_slices // 2, 0, len(ct) - 1)
        slab = ct[indices]
        zoom = (1, SIDE / slab.shape[1], SIDE / slab.shape[2])
        volume = ndimage.zoom(slab, zoom, order=1)
        spacing = (SLICE_SPACING, 3.0 / zoom[1], 3.0 / zoom[2])
    else:
        rows, columns = np.mgrid[:SIDE, :SIDE] / SIDE - 0.5
        body = (rows**2 / 0.16 + columns**2 / 0.2) < 1
        organ = ((rows - 0.1) ** 2 + (columns + 0.1) ** 2) < 0.01
        plane = np.where(body, 40.0, -1000.0) + 120.0 * organ
        noise = np.random.default_rng(0).normal(0, 20, (num_slices, SIDE, SIDE))
        volume = plane[None] + noise
        spacing = (SLICE_SPACING, 0.7, 0.7)
    image = sitk.GetImageFromArray(np.round(volume).astype(np.int16))
    image.SetSpacing(tuple(reversed(spacing)))
    path = folder / "ct_0000.nii.gz"
    sitk.WriteImage(image, str(path))
    return path


def benchmark_plans(spacing: tuple[float, float, float], input_size: int) -> Plans:
    """Plans slicing along z at the volume's own in-plane spacing (no resampling)."""
    configuration = SliceConfiguration(
        input_size=input_size,
        large_slice_handling="resize",
        sliding_window_step=0.5,
        context_slices=1,
        batch_size=16,
        model_type="vit_b",
        data_identifier="samsegPlans_2d",
    )
    return Plans(
        dataset_name="Dataset999_Benchmark",
        plans_name="samsegPlans",
        planner="benchmark",
        image_reader_writer="SimpleITKIO",
        slice_axis=0,
        transpose_forward=(0, 1, 2),
        original_median_spacing=spacing,
        target_spacing=spacing,
        median_shape_after_resampling=(8, SIDE, SIDE),
        normalization=(ChannelNormalization("CTNormalization", -125.0, 275.0),),
        label_handling=LabelHandling(
            class_names=("background", *(f"organ{i}" for i in range(1, NUM_CLASSES))),
            label_values=tuple(range(NUM_CLASSES)),
        ),
        configurations={f"2d_{input_size}": configuration},
        gpu_memory_target_gb=24.0,
    )


def benchmark_description(plans: Plans) -> DatasetDescription:
    """dataset.json of the benchmark: one CT channel, the plans' classes."""
    names = plans.label_handling.class_names
    labels = LabelScheme.from_json({n: v for v, n in enumerate(names)}, None, Path("benchmark"))
    return DatasetDescription(("CT",), labels, ".nii.gz", 1)


def peak_memory_mib(device: torch.device) -> float:
    """Peak resident set size of this process (CPU) or peak allocated GPU memory, MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def time_encoder(encoder: torch.nn.Module, device: torch.device) -> list[float]:
    """Sum the seconds spent in ``encoder`` into the returned one-element list.

    SamSegmenter runs the encoder's parts itself (``samseg.models.encoder.encode_image``), so
    the clock starts before the patch embedding and stops after the neck.
    """
    total = [0.0]
    started: list[float] = []

    def start(*_: object) -> None:
        started.append(time.perf_counter())

    def stop(*_: object) -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()
        total[0] += time.perf_counter() - started.pop()

    encoder.patch_embed.register_forward_pre_hook(start)
    encoder.neck.register_forward_hook(stop)
    return total


def naive_loop(
    image_path: Path, plans: Plans, network: torch.nn.Module, device: torch.device
) -> np.ndarray:
    """TransUNet/SAMed-style prediction: slice by slice, scipy zoom there and back."""
    case = preprocess_case([image_path], None, plans, SimpleITKIO())
    size = network.input_size
    context = next(iter(plans.configurations.values())).context_slices
    exporter = SegmentationExporter(case.properties, plans.label_handling, NUM_CLASSES)
    for index in range(case.data.shape[1]):
        image = sam_input_slices(case.data, [index], context)[0]
        rows, columns = image.shape[1:]
        zoomed = ndimage.zoom(image, (1, size / rows, size / columns), order=3)
        with torch.inference_mode():
            logits = network(torch.from_numpy(zoomed)[None].to(device)).logits
        label = logits.argmax(1)[0].cpu().numpy()
        label = ndimage.zoom(label, (rows / size, columns / size), order=0)
        one_hot = (np.arange(NUM_CLASSES)[:, None, None] == label)[:, None]
        exporter.add(index, one_hot.astype(np.float32))
    return exporter.segmentation()


def build_predictor(
    method: str, input_size: int, spacing: tuple[float, ...], options: Options
) -> SlicePredictor:
    """samseg's predictor for ``method`` (``samseg-<precision>``), seeded random network."""
    plans = benchmark_plans(spacing, input_size)
    torch.manual_seed(0)
    network = build_sam(
        options.model_type, input_size, None, num_classes=NUM_CLASSES, precision="fp32"
    )
    return SlicePredictor(
        [network],
        plans,
        f"2d_{input_size}",
        benchmark_description(plans),
        device=torch.device(options.device),
        use_mirroring=False,
        precision=method.removeprefix("samseg-"),
        batch_size=options.batch_size,
        show_progress=False,
    )


def volume_spacing(image_path: Path) -> tuple[float, ...]:
    """(z, y, x) spacing of the image file, mm."""
    return tuple(reversed(sitk.ReadImage(str(image_path)).GetSpacing()))


def measure(method: str, input_size: int, image_path: Path, options: Options) -> Measurement:
    """Build the network, predict the volume with ``method``; run in a fresh process."""
    torch.set_num_threads(options.threads)
    device = torch.device(options.device)
    start = time.perf_counter()
    if method == "naive":
        torch.manual_seed(0)
        network = build_sam(
            options.model_type, input_size, None, num_classes=NUM_CLASSES, precision="fp32"
        ).to(device)
        encoder_time = time_encoder(network.image_encoder, device)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        plans = benchmark_plans(volume_spacing(image_path), input_size)
        segmentation = naive_loop(image_path, plans, network, device)
    else:
        predictor = build_predictor(method, input_size, volume_spacing(image_path), options)
        encoder_time = time_encoder(predictor.networks[0].network.image_encoder, device)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        segmentation = predictor.predict_case([image_path]).segmentation
    wall = time.perf_counter() - start
    output = image_path.parent / f"{method}_{input_size}.npy"
    np.save(output, segmentation)
    return Measurement(
        method, input_size, wall, encoder_time[0], setup, peak_memory_mib(device), str(output)
    )


def probabilities_of(method: str, input_size: int, image_path: Path, options: Options) -> str:
    """Save samseg's (C, z, y, x) probabilities of the volume with ``method``; return the file."""
    torch.set_num_threads(options.threads)
    predictor = build_predictor(method, input_size, volume_spacing(image_path), options)
    probabilities = predictor.predict_case([image_path], return_probabilities=True).probabilities
    output = image_path.parent / f"{method}_{input_size}_probabilities.npy"
    np.save(output, probabilities)
    return str(output)


def agreement_table(files: dict[str, str], margin: float) -> str:
    """How far each precision's probabilities and labels are from fp32's, as markdown."""
    reference = np.load(files["samseg-fp32"])
    top_two = np.sort(reference, axis=0)[-2:]
    confident = top_two[1] - top_two[0] > margin
    labels = reference.argmax(0)
    lines = [
        "| method | max abs probability difference vs fp32 | voxels labelled differently "
        f"| of them where fp32's top-two margin > {margin} | median fp32 margin |",
        "|---|---|---|---|---|",
    ]
    median_margin = float(np.median(top_two[1] - top_two[0]))
    for method, path in files.items():
        probabilities = np.load(path)
        changed = probabilities.argmax(0) != labels
        lines.append(
            f"| {method} | {np.abs(probabilities - reference).max():.2e} "
            f"| {100 * changed.mean():.2f}% | {int(np.count_nonzero(changed & confident))} "
            f"| {median_margin:.4f} |"
        )
    return "\n".join(lines)


def in_child(function: Callable[..., T], *args: object) -> T:
    """Run ``function(*args)`` in a fresh spawned process and return its result."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def fastest(results: list[Measurement]) -> Measurement:
    """The fastest run, with the smallest peak memory of all runs."""
    quickest = min(results, key=lambda m: m.wall_s)
    return replace(quickest, peak_mib=min(m.peak_mib for m in results))


def mean_dice(first: np.ndarray, second: np.ndarray) -> float:
    """Mean Dice (percent) over foreground labels present in either segmentation."""
    scores = []
    for value in np.union1d(np.unique(first), np.unique(second)):
        if value == 0:
            continue
        a, b = first == value, second == value
        scores.append(2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b)))
    return 100 * float(np.mean(scores)) if scores else 100.0


def table(best: dict[tuple[str, int], Measurement], num_slices: int) -> str:
    """The results as a markdown table."""
    segmentations = {key: np.load(m.segmentation) for key, m in best.items()}
    lines = [
        "| method | input | slices/s | wall s | vs naive | encoder share | peak memory (MiB) "
        "| Dice vs samseg-fp32 | Dice vs naive | setup s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in best.items():
        size = m.input_size
        naive = best.get(("naive", size))
        reference = segmentations.get(("samseg-fp32", size))
        naive_segmentation = segmentations.get(("naive", size))
        cells = [
            m.method,
            str(size),
            f"{num_slices / m.wall_s:.3f}",
            f"{m.wall_s:.1f}",
            f"{naive.wall_s / m.wall_s:.2f}x" if naive else "-",
            f"{100 * m.encoder_s / m.wall_s:.1f}%",
            f"{m.peak_mib:,.0f}",
            "-" if reference is None else f"{mean_dice(segmentations[key], reference):.2f}",
            "-"
            if naive_segmentation is None
            else f"{mean_dice(segmentations[key], naive_segmentation):.2f}",
            f"{m.setup_s:.1f}",
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
    parser.add_argument("--repeats", type=int, default=2, help="rounds; the minimum counts")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--batch-size", type=int, default=None, help="samseg batch size")
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

    runs: dict[tuple[str, int], list[Measurement]] = {}
    with tempfile.TemporaryDirectory() as folder:
        image_path = make_volume(Path(folder), args.slices)
        for round_index in range(args.repeats):
            for size in sizes:
                for method in methods:
                    result = in_child(measure, method, size, image_path, options)
                    runs.setdefault((method, size), []).append(result)
                    print(
                        f"round {round_index + 1}: {method} at {size}: {result.wall_s:.1f} s, "
                        f"encoder {result.encoder_s:.1f} s, {result.peak_mib:,.0f} MiB",
                        file=sys.stderr,
                        flush=True,
                    )
        best = {key: fastest(results) for key, results in runs.items()}
        source = "abdominal CT slab" if ABDOMEN_CT.is_file() else "synthetic CT"
        device = torch.cuda.get_device_name() if cuda else f"CPU, {args.threads} threads"
        print(
            f"{args.model_type}, random weights, {args.slices} x {SIDE} x {SIDE} {source}, "
            f"{device}, torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}"
        )
        print(table(best, args.slices))
        samseg_methods = [m for m in methods if m.startswith("samseg-")]
        if args.agreement_slices and "samseg-fp32" in samseg_methods:
            small = Path(folder) / "agreement"
            small.mkdir()
            small_image = make_volume(small, args.agreement_slices)
            files = {
                method: in_child(probabilities_of, method, sizes[0], small_image, options)
                for method in samseg_methods
            }
            print(f"\nAgreement with fp32 on {args.agreement_slices} slices at {sizes[0]}:")
            print(agreement_table(files, CONFIDENT_MARGIN))


if __name__ == "__main__":
    main()
