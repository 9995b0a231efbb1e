"""Square crops of slices at full resolution ("sliding_window" configurations)."""

from __future__ import annotations

import numpy as np


def crop_origin(
    shape: tuple[int, int],
    size: int,
    rng: np.random.Generator,
    label: np.ndarray | None = None,
    value: int | None = None,
) -> tuple[int, int]:
    """Top-left corner (row, column) of a ``size`` x ``size`` training patch in a slice.

    Along an axis at least ``size`` long the patch lies inside the slice; along a shorter axis
    it is centred on the slice, the odd pixel of padding after it, as the predictor pads.
    Without ``value`` the position is uniform; with it, the patch is centred on a random voxel
    of ``label == value`` as far as staying inside the slice allows (that voxel is always
    inside the patch), as nnU-Net centres its foreground-oversampled patches.

    Args:
        shape: (rows, columns) of the slice, pixels.
        size: patch side, pixels.
        rng: random generator.
        label: (rows, columns) labels of the slice, needed with ``value``.
        value: label value to centre on; a value absent from ``label`` is ignored.
    """
    lows = [min(0, -((size - n) // 2)) for n in shape]
    highs = [max(n - size, low) for n, low in zip(shape, lows, strict=True)]
    if value is not None and label is not None:
        voxels = np.flatnonzero(label == value)
        if voxels.size:
            voxel = np.unravel_index(voxels[rng.integers(voxels.size)], shape)
            return tuple(
                int(np.clip(v - size // 2, low, high))
                for v, low, high in zip(voxel, lows, highs, strict=True)
            )
    return tuple(int(rng.integers(low, high + 1)) for low, high in zip(lows, highs, strict=True))


def padded_crop(
    array: np.ndarray, top: int, left: int, size: int, out: np.ndarray | None = None
) -> np.ndarray:
    """``array[..., top : top + size, left : left + size]`` with zeros outside ``array``.

    Args:
        array: (..., rows, columns).
        top, left: corner of the crop, pixels; may be negative or run past the end.
        size: crop side, pixels.
        out: optional (..., size, size) array to write into.

    Returns:
        (..., size, size), the dtype of ``out`` (else of ``array``).
    """
    if out is None:
        out = np.zeros((*array.shape[:-2], size, size), dtype=array.dtype)
    else:
        out[...] = 0
    rows, columns = array.shape[-2:]
    source_rows = slice(max(top, 0), min(top + size, rows))
    source_columns = slice(max(left, 0), min(left + size, columns))
    if source_rows.start < source_rows.stop and source_columns.start < source_columns.stop:
        out[
            ...,
            source_rows.start - top : source_rows.stop - top,
            source_columns.start - left : source_columns.stop - left,
        ] = array[..., source_rows, source_columns]
    return out
