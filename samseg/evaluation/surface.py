"""Object borders and border-to-border distances, computed only where the objects are.

The definitions are medpy's (``medpy.metric.binary.__surface_distances``): the border of a mask
is the mask minus its erosion by the connectivity-1 structure (6 neighbours in 3D, 4 in 2D),
with everything outside the array counting as background; the distance of a border voxel of
one mask to the other mask is the Euclidean distance (in the units of ``spacing``) to the
nearest border voxel of the other mask.

medpy computes a Euclidean distance transform of the whole image for each direction. Here the
masks are cut to the bounding box of their union (every border voxel lies in it, and outside it
is background either way, so the borders are exactly medpy's), the border voxels become points
in mm (index times spacing), and the nearest-border distances come from k-d trees of those
points: exact Euclidean nearest neighbours, as the distance transform gives, at a cost that
grows with the surface instead of the volume.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

TOLERANCE_SLACK = 1e-9
"""Relative slack of the surface Dice's tolerance comparison, against floating-point rounding."""


def bounding_box(*masks: np.ndarray) -> tuple[slice, ...] | None:
    """Smallest box (one slice per axis) holding every true voxel of ``masks``; ``None`` if none.

    All masks must have the same shape.
    """
    union = functools.reduce(np.logical_or, masks)
    box = []
    for axis in range(union.ndim):
        other_axes = tuple(a for a in range(union.ndim) if a != axis)
        hits = np.flatnonzero(union.any(axis=other_axes))
        if hits.size == 0:
            return None
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return tuple(box)


def border(mask: np.ndarray) -> np.ndarray:
    """The border voxels of a boolean mask (any number of axes): same shape, boolean.

    A voxel is on the border when it is in the mask and at least one of its face neighbours is
    not (or lies outside the array). Equal to ``mask ^ binary_erosion(mask,
    generate_binary_structure(mask.ndim, 1))``, computed with shifted views instead.
    """
    padded = np.pad(mask, 1, constant_values=False)
    inside = tuple(slice(1, -1) for _ in range(mask.ndim))
    eroded = padded[inside].copy()
    for axis in range(mask.ndim):
        for start, stop in ((0, -2), (2, None)):
            shifted = list(inside)
            shifted[axis] = slice(start, stop)
            eroded &= padded[tuple(shifted)]
    return mask & ~eroded


@dataclass(frozen=True)
class SurfaceDistances:
    """Distances between the borders of a prediction and a reference mask.

    Attributes:
        prediction_to_reference: (n_prediction_border_voxels,) float64, distance of each
            prediction border voxel to the nearest reference border voxel.
        reference_to_prediction: (n_reference_border_voxels,) float64, the other direction.

    Units are those of the spacing the distances were computed with (mm, or voxels).
    """

    prediction_to_reference: np.ndarray
    reference_to_prediction: np.ndarray

    def hausdorff95(self) -> float:
        """95th percentile of both directed distance sets together (medpy's ``hd95``)."""
        both = np.concatenate((self.prediction_to_reference, self.reference_to_prediction))
        return float(np.percentile(both, 95))

    def surface_dice(self, tolerance: float) -> float:
        """Fraction of border voxels of both masks within ``tolerance`` of the other border.

        A distance counts as within when it is at most ``tolerance`` up to a relative rounding
        slack of :data:`TOLERANCE_SLACK`, so that a distance of exactly 4 * 0.8 mm is within
        3.2 mm whichever way its last bit was rounded.
        """
        limit = tolerance * (1 + TOLERANCE_SLACK)
        within = np.count_nonzero(self.prediction_to_reference <= limit) + np.count_nonzero(
            self.reference_to_prediction <= limit
        )
        return within / (self.prediction_to_reference.size + self.reference_to_prediction.size)


def surface_distances(
    reference: np.ndarray, prediction: np.ndarray, spacing: Sequence[float]
) -> SurfaceDistances:
    """Border-to-border distances of two non-empty boolean masks of the same shape.

    Args:
        reference: boolean mask, any number of axes.
        prediction: boolean mask, same shape.
        spacing: voxel size along each axis (mm for distances in mm; ones for voxels).
    """
    box = bounding_box(reference, prediction)
    if box is None or not reference[box].any() or not prediction[box].any():
        raise ValueError("surface_distances: expected two non-empty masks, found an empty one")
    scale = np.asarray(spacing, dtype=np.float64)
    reference_points = np.argwhere(border(reference[box])) * scale
    prediction_points = np.argwhere(border(prediction[box])) * scale
    return SurfaceDistances(
        prediction_to_reference=cKDTree(reference_points).query(prediction_points)[0],
        reference_to_prediction=cKDTree(prediction_points).query(reference_points)[0],
    )
