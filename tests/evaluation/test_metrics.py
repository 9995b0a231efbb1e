"""Metric functions on arrays: medpy agreement, NSD by brute force, empty-mask conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from medpy.metric import binary as medpy_binary
from scipy.ndimage import binary_erosion, generate_binary_structure
from scipy.spatial.distance import cdist

from samseg.evaluation import (
    dice,
    hausdorff95,
    iou,
    surface_dice,
    surface_distances,
    transunet_dice_hd95,
)
from samseg.evaluation.surface import TOLERANCE_SLACK, border


def random_blobs(rng: np.random.Generator, shape: tuple[int, ...], count: int = 3) -> np.ndarray:
    """Boolean mask: the union of ``count`` random ellipsoids (some may touch the edges)."""
    grid = np.indices(shape, dtype=np.float64)
    mask = np.zeros(shape, bool)
    for _ in range(count):
        centre = [rng.uniform(0, n) for n in shape]
        radii = [rng.uniform(1.5, max(2.0, n / 3)) for n in shape]
        distance = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True))
        mask |= distance <= 1
    return mask


def perturbed(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    """A prediction: the mask shifted by a voxel or two, with scattered false positives."""
    shift = tuple(int(s) for s in rng.integers(-2, 3, size=mask.ndim))
    prediction = np.roll(mask, shift, axis=tuple(range(mask.ndim)))
    prediction |= rng.random(mask.shape) < 0.002
    return prediction


CASES = [
    ((18, 24, 22), (1.0, 1.0, 1.0)),
    ((12, 30, 26), (3.0, 0.7, 0.7)),
    ((16, 20, 28), (2.5, 0.8, 1.3)),
    ((40, 36), (0.6, 1.7)),
]


@pytest.mark.parametrize(("shape", "spacing"), CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_and_hd95_equal_medpy(shape, spacing, seed):
    rng = np.random.default_rng(seed)
    reference = random_blobs(rng, shape)
    prediction = perturbed(rng, reference)
    assert reference.any() and prediction.any()
    assert dice(reference, prediction) == pytest.approx(
        medpy_binary.dc(prediction, reference), abs=1e-6
    )
    expected = medpy_binary.hd95(prediction, reference, voxelspacing=spacing)
    assert hausdorff95(reference, prediction, spacing) == pytest.approx(expected, abs=1e-6)
    assert hausdorff95(reference, prediction) == pytest.approx(
        medpy_binary.hd95(prediction, reference), abs=1e-6
    )


def test_border_equals_erosion_border_including_array_edges():
    rng = np.random.default_rng(5)
    mask = random_blobs(rng, (10, 14, 12), count=4)
    mask[0, :5, :5] = True  # touches the array edge
    eroded = binary_erosion(mask, structure=generate_binary_structure(3, 1), iterations=1)
    np.testing.assert_array_equal(border(mask), mask ^ eroded)


def brute_force_nsd(reference, prediction, tolerance, spacing):
    """NSD from all pairwise distances between border voxel centres (same rounding slack)."""
    scale = np.asarray(spacing)
    ref_points = np.argwhere(border(reference)) * scale
    pred_points = np.argwhere(border(prediction)) * scale
    distances = cdist(pred_points, ref_points)
    limit = tolerance * (1 + TOLERANCE_SLACK)
    within = (distances.min(axis=1) <= limit).sum() + (distances.min(axis=0) <= limit).sum()
    return within / (len(pred_points) + len(ref_points))


@pytest.mark.parametrize(("shape", "spacing"), CASES)
@pytest.mark.parametrize("tolerance", [0.5, 1.0, 2.0, 4.0])
def test_surface_dice_equals_brute_force(shape, spacing, tolerance):
    rng = np.random.default_rng(int(tolerance * 10) + len(shape))
    reference = random_blobs(rng, shape)
    prediction = perturbed(rng, reference)
    expected = brute_force_nsd(reference, prediction, tolerance, spacing)
    assert surface_dice(reference, prediction, tolerance, spacing) == pytest.approx(expected)


def test_surface_distances_of_a_shifted_cube_are_exact():
    reference = np.zeros((20, 20, 20), bool)
    reference[5:10, 5:10, 5:10] = True
    prediction = np.roll(reference, 3, axis=2)
    distances = surface_distances(reference, prediction, (2.0, 1.0, 0.5))
    assert distances.prediction_to_reference.max() == pytest.approx(1.5)
    assert distances.reference_to_prediction.max() == pytest.approx(1.5)
    assert distances.surface_dice(1.5) == 1.0
    with pytest.raises(ValueError, match="non-empty"):
        surface_distances(reference, np.zeros_like(reference), (1.0, 1.0, 1.0))


def masks(reference_empty: bool, prediction_empty: bool) -> tuple[np.ndarray, np.ndarray]:
    reference = np.zeros((6, 8, 8), bool)
    prediction = np.zeros((6, 8, 8), bool)
    if not reference_empty:
        reference[2:4, 2:5, 2:5] = True
    if not prediction_empty:
        prediction[2:5, 3:6, 2:5] = True
    return reference, prediction


NAN = float("nan")


@pytest.mark.parametrize(
    ("reference_empty", "prediction_empty", "expected"),
    [
        # (Dice, IoU, HD95, NSD), as documentation/evaluation.md tabulates them
        (True, True, (NAN, NAN, NAN, NAN)),
        (False, True, (0.0, 0.0, NAN, 0.0)),
        (True, False, (0.0, 0.0, NAN, 0.0)),
    ],
)
def test_default_empty_mask_conventions(reference_empty, prediction_empty, expected):
    reference, prediction = masks(reference_empty, prediction_empty)
    found = (
        dice(reference, prediction),
        iou(reference, prediction),
        hausdorff95(reference, prediction, (1.0, 1.0, 1.0)),
        surface_dice(reference, prediction, 2.0, (1.0, 1.0, 1.0)),
    )
    for value, wanted in zip(found, expected, strict=True):
        assert (math.isnan(value) and math.isnan(wanted)) or value == wanted


@pytest.mark.parametrize(
    ("reference_empty", "prediction_empty", "expected"),
    [((True, True, (0.0, 0.0))), (False, True, (0.0, 0.0)), (True, False, (1.0, 0.0))],
)
def test_synapse_empty_mask_conventions_are_transunets(reference_empty, prediction_empty, expected):
    reference, prediction = masks(reference_empty, prediction_empty)
    assert transunet_dice_hd95(prediction, reference) == expected


def test_synapse_non_empty_is_medpy_without_spacing():
    reference, prediction = masks(False, False)
    found_dice, found_hd95 = transunet_dice_hd95(prediction.astype(np.uint8), reference * 3)
    assert found_dice == pytest.approx(medpy_binary.dc(prediction, reference), abs=1e-12)
    assert found_hd95 == pytest.approx(medpy_binary.hd95(prediction, reference), abs=1e-6)


def test_shape_and_spacing_are_checked():
    reference, prediction = masks(False, False)
    with pytest.raises(ValueError, match="same shape"):
        dice(reference, prediction[:-1])
    with pytest.raises(ValueError, match="3 spacing values"):
        hausdorff95(reference, prediction, (1.0, 1.0))
