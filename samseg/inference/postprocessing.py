"""Optional postprocessing: keep only the largest connected component of each label."""

from __future__ import annotations

import numpy as np
from acvl_utils.morphology.morphology_helper import remove_all_but_largest_component_cc3d

CONNECTIVITY = 26
"""Voxels touching by a face, an edge or a corner are connected (nnU-Net's choice)."""


def keep_largest_component_per_label(segmentation: np.ndarray) -> np.ndarray:
    """Set every voxel of a label outside that label's largest connected component to 0.

    Components are found with cc3d (through acvl-utils) in 3D, 26-connectivity, within the
    bounding box of each label. Ties keep every component of the largest size.

    Args:
        segmentation: (z, y, x) integer labels, 0 background.

    Returns:
        A new array of the same shape and dtype.
    """
    result = segmentation.copy()
    for value in np.unique(segmentation):
        if value == 0:
            continue
        mask = segmentation == value
        box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in np.nonzero(mask))
        inside = mask[box]
        keep = remove_all_but_largest_component_cc3d(inside, connectivity=CONNECTIVITY)
        result[box][inside & ~keep] = 0
    return result
