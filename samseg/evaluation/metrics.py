"""Overlap and surface metrics of one class, on boolean arrays.

Conventions for empty masks (the default protocol; see documentation/evaluation.md):

    reference   prediction   Dice, IoU   HD95   NSD
    non-empty   non-empty    formula     mm     formula
    non-empty   empty        0           NaN    0
    empty       non-empty    0           NaN    0
    empty       empty        NaN         NaN    NaN

NaN marks "not defined"; means over cases leave NaN out (as nnU-Net does for Dice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from samseg.evaluation.surface import surface_distances
from samseg.evaluation.synapse import transunet_dice_hd95

METRIC_NAMES: tuple[str, ...] = (
    "Dice",
    "IoU",
    "FP",
    "TP",
    "FN",
    "TN",
    "n_pred",
    "n_ref",
    "HD95",
    "NSD",
    "volume_ref_mm3",
    "volume_pred_mm3",
)
"""Keys of every class's metrics in summary.json: nnU-Net's eight, then samseg's four."""

Metrics = dict[str, float | int]


def dice(reference: np.ndarray, prediction: np.ndarray) -> float:
    """Dice coefficient 2|R and P| / (|R| + |P|) of two boolean masks; NaN when both are empty."""
    reference, prediction = _as_masks(reference, prediction)
    overlap = np.count_nonzero(reference & prediction)
    total = np.count_nonzero(reference) + np.count_nonzero(prediction)
    return 2 * overlap / total if total else float("nan")


def iou(reference: np.ndarray, prediction: np.ndarray) -> float:
    """Intersection over union |R and P| / |R or P| of two boolean masks; NaN if both are empty."""
    reference, prediction = _as_masks(reference, prediction)
    union = np.count_nonzero(reference | prediction)
    return np.count_nonzero(reference & prediction) / union if union else float("nan")


def hausdorff95(
    reference: np.ndarray, prediction: np.ndarray, spacing: Sequence[float] | None = None
) -> float:
    """95th percentile symmetric Hausdorff distance between two masks' borders.

    Equal to ``medpy.metric.binary.hd95(prediction, reference, voxelspacing=spacing)``.

    Args:
        reference: boolean mask, any number of axes (z, y, x for volumes).
        prediction: boolean mask, same shape.
        spacing: voxel size per axis in mm, same axis order; ``None`` gives voxels.

    Returns:
        The distance in mm (voxels without ``spacing``); NaN when either mask is empty.
    """
    reference, prediction = _as_masks(reference, prediction)
    if not reference.any() or not prediction.any():
        return float("nan")
    return surface_distances(reference, prediction, _spacing(spacing, reference)).hausdorff95()


def surface_dice(
    reference: np.ndarray,
    prediction: np.ndarray,
    tolerance_mm: float,
    spacing: Sequence[float] | None = None,
) -> float:
    """Normalized surface Dice: share of border voxels within ``tolerance_mm`` of the other border.

    (|{p in border(P): d(p, border(R)) <= tau}| + |{r in border(R): d(r, border(P)) <= tau}|)
    / (|border(P)| + |border(R)|), borders as in :func:`hausdorff95`.

    Args:
        reference: boolean mask, any number of axes.
        prediction: boolean mask, same shape.
        tolerance_mm: tau, in mm (in voxels without ``spacing``).
        spacing: voxel size per axis in mm; ``None`` gives voxels.

    Returns:
        A value in [0, 1]; 0 when exactly one mask is empty, NaN when both are.
    """
    reference, prediction = _as_masks(reference, prediction)
    reference_empty, prediction_empty = not reference.any(), not prediction.any()
    if reference_empty or prediction_empty:
        return float("nan") if reference_empty and prediction_empty else 0.0
    distances = surface_distances(reference, prediction, _spacing(spacing, reference))
    return distances.surface_dice(tolerance_mm)


def class_metrics(
    reference: np.ndarray,
    prediction: np.ndarray,
    *,
    spacing: Sequence[float],
    nsd_tolerance_mm: float,
    num_valid_voxels: int,
    synapse_protocol: bool = False,
) -> Metrics:
    """Every metric of one class, from masks cut to a box that holds all of their true voxels.

    Args:
        reference: boolean mask of the class in the reference, cut to the box.
        prediction: boolean mask of the class in the prediction, same box.
        spacing: voxel size per axis in mm.
        nsd_tolerance_mm: tolerance of the normalized surface Dice, in mm.
        num_valid_voxels: voxels of the whole image that count (all but ignored ones), for TN.
        synapse_protocol: score Dice and HD95 (in voxels) as TransUNet does; the rest as usual.

    Returns:
        A dict with the keys of :data:`METRIC_NAMES`; counts in voxels, HD95 in mm (voxels
        with ``synapse_protocol``), volumes in mm³.
    """
    tp = int(np.count_nonzero(reference & prediction))
    n_ref = int(np.count_nonzero(reference))
    n_pred = int(np.count_nonzero(prediction))
    fp, fn = n_pred - tp, n_ref - tp
    both = n_ref > 0 and n_pred > 0
    distances = surface_distances(reference, prediction, spacing) if both else None
    voxel_volume = float(np.prod(spacing))
    metrics: Metrics = {
        "Dice": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan"),
        "IoU": tp / (tp + fp + fn) if tp + fp + fn else float("nan"),
        "FP": fp,
        "TP": tp,
        "FN": fn,
        "TN": num_valid_voxels - tp - fp - fn,
        "n_pred": n_pred,
        "n_ref": n_ref,
        "HD95": distances.hausdorff95() if distances else float("nan"),
        "NSD": distances.surface_dice(nsd_tolerance_mm) if distances else _empty_nsd(n_ref, n_pred),
        "volume_ref_mm3": n_ref * voxel_volume,
        "volume_pred_mm3": n_pred * voxel_volume,
    }
    if synapse_protocol:
        metrics["Dice"], metrics["HD95"] = transunet_dice_hd95(prediction, reference)
    return metrics


def _empty_nsd(n_ref: int, n_pred: int) -> float:
    return float("nan") if n_ref == 0 and n_pred == 0 else 0.0


def _as_masks(reference: np.ndarray, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference, prediction = np.asarray(reference, bool), np.asarray(prediction, bool)
    if reference.shape != prediction.shape:
        raise ValueError(
            f"expected masks of the same shape, found reference {reference.shape} and "
            f"prediction {prediction.shape}"
        )
    return reference, prediction


def _spacing(spacing: Sequence[float] | None, mask: np.ndarray) -> tuple[float, ...]:
    if spacing is None:
        return (1.0,) * mask.ndim
    if len(spacing) != mask.ndim:
        raise ValueError(f"expected {mask.ndim} spacing values, found {len(spacing)}")
    return tuple(float(s) for s in spacing)
