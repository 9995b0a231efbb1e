"""Crop a case to the bounding box of its non-zero voxels, as nnU-Net does.

The non-zero region is the union over channels of ``image != 0``; nnU-Net fills its holes, which
cannot change the bounding box, so the hole-filled mask is computed only where it is used (the
z-score region, :func:`nonzero_mask`). The label is cropped with the same box and left as it is:
unlike nnU-Net, no ``-1`` is written outside the non-zero region, because samseg derives that
region from the image itself wherever it needs it.

``acvl_utils.cropping_and_padding.bounding_boxes`` has the same bounding-box helpers but imports
torch (about 1.5 s and 200 MB per process), so the few lines are written out here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class CropBox:
    """Half-open [start, stop) voxel ranges of the crop in the raw (z, y, x) array."""

    ranges: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        """Index expression selecting the box from a (z, y, x) array."""
        return tuple(slice(start, stop) for start, stop in self.ranges)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(z, y, x) shape of the cropped array, voxels."""
        return tuple(stop - start for start, stop in self.ranges)


def nonzero_bounding_box(images: np.ndarray) -> CropBox:
    """Bounding box of the voxels that are non-zero in any channel.

    Args:
        images: (channel, z, y, x).

    Returns:
        The box; the whole array when every voxel is zero (as nnU-Net).
    """
    nonzero = _any_channel_nonzero(images)
    ranges = []
    for axis in range(3):
        other_axes = tuple(a for a in range(3) if a != axis)
        occupied = np.flatnonzero(nonzero.any(axis=other_axes))
        if occupied.size == 0:
            return CropBox(tuple((0, n) for n in nonzero.shape))
        ranges.append((int(occupied[0]), int(occupied[-1]) + 1))
    return CropBox(tuple(ranges))


def crop_to_nonzero(
    images: np.ndarray, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, CropBox]:
    """Crop images and labels to the non-zero bounding box of the images.

    Args:
        images: (channel, z, y, x).
        labels: (1, z, y, x) or ``None``.

    Returns:
        Views of the cropped images and labels (same axes), and the box in raw voxels.
    """
    box = nonzero_bounding_box(images)
    index = (slice(None), *box.slices)
    return images[index], None if labels is None else labels[index], box


def nonzero_mask(images: np.ndarray) -> np.ndarray:
    """nnU-Net's non-zero region: voxels non-zero in any channel, holes filled in 3D.

    Args:
        images: (channel, ...).

    Returns:
        Boolean array of the spatial shape of ``images``.
    """
    return ndimage.binary_fill_holes(_any_channel_nonzero(images))


def _any_channel_nonzero(images: np.ndarray) -> np.ndarray:
    """Boolean (spatial shape) mask of voxels non-zero in at least one channel."""
    nonzero = images[0] != 0
    for channel in images[1:]:
        nonzero |= channel != 0
    return nonzero
