"""Where the stored slices of a preprocessed case lie in the world.

Preprocessing reorients, crops and transposes a case so that its slice axis comes first, and
resamples rows and columns only, so stored slice s is voxel ``crop start + s`` along the slice
axis of the reoriented image. :func:`stored_slice_positions` gives the world position (mm,
LPS) of every stored slice along a chosen normal (default: the case's own slice normal), so two
scans of one patient can be matched slice by slice (P²SAM's prior-scan reference).
"""

from __future__ import annotations

import numpy as np

from samseg.preprocessing.properties import CaseProperties


def _oriented(properties: CaseProperties) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Origin (3,), direction matrix (3, 3), spacing (z, y, x) of the reoriented image, and the
    reoriented array axis that became the slice axis."""
    geometry = properties.reorientation.apply_to_geometry(
        properties.geometry, properties.original_shape
    )
    return (
        np.asarray(geometry.origin, dtype=np.float64),
        geometry.direction_matrix,
        np.asarray(geometry.spacing, dtype=np.float64),
        properties.transpose_forward[0],
    )


def slice_normal(properties: CaseProperties) -> np.ndarray:
    """(3,) unit world direction (LPS) in which the stored slice index grows."""
    _, matrix, _, axis = _oriented(properties)
    return matrix[:, 2 - axis]


def stored_slice_positions(
    properties: CaseProperties, normal: np.ndarray | None = None
) -> np.ndarray:
    """(slices,) float64 world position (mm) of each stored slice along ``normal``.

    Args:
        properties: the preprocessed case's properties.
        normal: (3,) unit world direction; default :func:`slice_normal` of the case.
    """
    origin, matrix, spacing, axis = _oriented(properties)
    normal = slice_normal(properties) if normal is None else np.asarray(normal, np.float64)
    start = np.array([box[0] for box in properties.crop_box.ranges], dtype=np.float64)
    count = properties.shape_after_resampling[0]
    indices = np.repeat(start[None], count, axis=0)
    indices[:, axis] += np.arange(count)
    world = origin + (indices[:, ::-1] * spacing[::-1]) @ matrix.T
    return world @ normal
