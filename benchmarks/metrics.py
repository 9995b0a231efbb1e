"""HD95 of samseg against medpy on a 512 x 512 x 150 volume with 8 organs.

The reference holds 8 ellipsoid "organs" (labels 1-8); the prediction is the reference
perturbed (each organ moved by a few voxels and rescaled, plus a few stray false-positive
blobs). For each organ the script computes ``medpy.metric.binary.hd95(pred == k, ref == k,
voxelspacing=spacing)`` and samseg's ``hausdorff95`` on the same masks, then times samseg's
whole-case path ``evaluate_arrays`` (all 8 organs and every metric: Dice, IoU, HD95, NSD,
counts, volumes). It prints per-organ values both ways, their largest absolute difference, the
times and the speedups. The target is a speedup of at least 10 at equal values::

    python benchmarks/metrics.py [--seed 0] [--spacing 3.0 0.76 0.76]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence

import numpy as np
from medpy.metric import binary as medpy_binary

from samseg.evaluation import EvaluationLabels, evaluate_arrays, hausdorff95

SHAPE = (150, 512, 512)
ORGANS = (
    # name, centre (z, y, x) in voxels, radii (z, y, x) in voxels; the organs do not overlap
    ("spleen", (70, 250, 410), (18, 40, 30)),
    ("right_kidney", (40, 340, 110), (18, 28, 22)),
    ("left_kidney", (40, 340, 400), (18, 28, 22)),
    ("gallbladder", (80, 330, 185), (8, 16, 12)),
    ("liver", (85, 230, 140), (35, 80, 70)),
    ("stomach", (95, 180, 320), (22, 50, 45)),
    ("aorta", (75, 330, 256), (60, 12, 12)),
    ("pancreas", (70, 270, 256), (8, 18, 50)),
)


def ellipsoid_labels(
    organs: Sequence[tuple[str, tuple[int, ...], tuple[float, ...]]],
    shape: tuple[int, int, int],
) -> np.ndarray:
    """(z, y, x) uint8 label map: organ ``i`` (1-based) is an ellipsoid; later ones overwrite."""
    labels = np.zeros(shape, np.uint8)
    for value, (_, centre, radii) in enumerate(organs, start=1):
        box = tuple(
            slice(max(0, int(c - r) - 1), min(n, int(c + r) + 2))
            for c, r, n in zip(centre, radii, shape, strict=True)
        )
        grid = np.ogrid[box]
        inside = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1
        labels[box][inside] = value
    return labels


def perturbed_organs(rng: np.random.Generator) -> list:
    """The organs moved by up to 4 voxels per axis and rescaled by 0.9-1.1."""
    return [
        (
            name,
            tuple(c + int(rng.integers(-4, 5)) for c in centre),
            tuple(r * rng.uniform(0.9, 1.1) for r in radii),
        )
        for name, centre, radii in ORGANS
    ]


def make_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(reference, prediction) uint8 label maps of shape :data:`SHAPE`."""
    rng = np.random.default_rng(seed)
    reference = ellipsoid_labels(ORGANS, SHAPE)
    prediction = ellipsoid_labels(perturbed_organs(rng), SHAPE)
    for value in range(1, len(ORGANS) + 1):
        z, y, x = (int(rng.integers(5, n - 5)) for n in SHAPE)
        prediction[z - 2 : z + 2, y - 3 : y + 3, x - 3 : x + 3] = value
    return reference, prediction


def run(seed: int, spacing: tuple[float, float, float]) -> str:
    """Compute, time and format the comparison table."""
    reference, prediction = make_pair(seed)
    rows, medpy_total, samseg_total = [], 0.0, 0.0
    for value, (name, _, _) in enumerate(ORGANS, start=1):
        ref, pred = reference == value, prediction == value
        start = time.perf_counter()
        expected = medpy_binary.hd95(pred, ref, voxelspacing=spacing)
        medpy_time = time.perf_counter() - start
        start = time.perf_counter()
        found = hausdorff95(ref, pred, spacing)
        samseg_time = time.perf_counter() - start
        medpy_total, samseg_total = medpy_total + medpy_time, samseg_total + samseg_time
        rows.append((name, expected, found, abs(expected - found), medpy_time, samseg_time))
    labels = EvaluationLabels.from_values(list(range(1, len(ORGANS) + 1)))
    start = time.perf_counter()
    case = evaluate_arrays(reference, prediction, labels, spacing)
    case_time = time.perf_counter() - start
    case_difference = max(abs(case[str(v)]["HD95"] - row[1]) for v, row in enumerate(rows, start=1))
    lines = [
        f"volume {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} (z, y, x), spacing {spacing} mm, "
        f"8 organs, seed {seed}; {platform.processor() or platform.machine()}, "
        f"numpy {np.__version__}",
        "",
        "| organ | HD95 medpy (mm) | HD95 samseg (mm) | abs diff | medpy (s) | samseg (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {e:.6f} | {f:.6f} | {d:.1e} | {mt:.2f} | {st:.3f} |"
        for n, e, f, d, mt, st in rows
    ]
    worst = max(row[3] for row in rows)
    lines += [
        f"| **total** | | | max {worst:.1e} | {medpy_total:.2f} | {samseg_total:.3f} |",
        "",
        f"hausdorff95 per organ (masks given): {medpy_total / samseg_total:.1f}x faster than medpy",
        f"evaluate_arrays, whole case (all 8 organs, every metric, from the label maps): "
        f"{case_time:.3f} s, {medpy_total / case_time:.1f}x faster than medpy's HD95 alone; "
        f"max abs HD95 difference {case_difference:.1e}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--spacing", type=float, nargs=3, default=(3.0, 0.76, 0.76), metavar=("Z", "Y", "X")
    )
    args = parser.parse_args(argv)
    print(run(args.seed, tuple(args.spacing)))


if __name__ == "__main__":
    main()
