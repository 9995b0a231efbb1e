"""Resizing 2D slices to SAM's square input, in numpy (no torch threads in loader workers).

- Images: separable linear interpolation with pixel centres aligned, equal (up to float32
  rounding) to ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)``, the
  call the predictor resizes slices with (``samseg.inference.tiling``).
- Labels: nearest neighbour with pixel centres aligned, as
  ``torch.nn.functional.interpolate(mode="nearest-exact")``.

Training ("resize" configurations) and prediction resize slices the same way, so the model
sees at inference exactly the kind of input it was trained on.
"""

from __future__ import annotations

import numpy as np


def linear_resize_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights of linear resizing along one axis.

    Output pixel o samples the input at ``(o + 0.5) * in_size / out_size - 0.5``, clamped to
    the first and last input pixels (``align_corners=False``).

    Args:
        in_size: input length, pixels.
        out_size: output length, pixels.

    Returns:
        (indices, weights), both (out_size, 2): output pixel o is
        ``weights[o, 0] * input[indices[o, 0]] + weights[o, 1] * input[indices[o, 1]]``;
        weights are float32.
    """
    scale = np.float32(in_size / out_size)  # float32 arithmetic, as torch's CPU kernel
    centers = np.arange(out_size, dtype=np.float32) + np.float32(0.5)
    positions = np.maximum(centers * scale - np.float32(0.5), np.float32(0))
    low = np.minimum(positions.astype(np.int64), in_size - 1)
    fraction = positions - low
    indices = np.stack([low, np.minimum(low + 1, in_size - 1)], axis=1)
    weights = np.stack([1 - fraction, fraction], axis=1).astype(np.float32)
    return indices, weights


def resize_images(
    images: np.ndarray, size: tuple[int, int], out: np.ndarray | None = None
) -> np.ndarray:
    """Resize the last two axes of ``images`` to ``size`` (see the module docstring).

    Args:
        images: (..., R, C) float32.
        size: (rows, columns) of the result, pixels.
        out: optional (..., rows, columns) float32 array to write into.

    Returns:
        (..., rows, columns) float32.
    """
    rows, columns = size
    result = images
    if images.shape[-2] != rows:
        result = _resize_axis(result, rows, axis=-2)
    if images.shape[-1] != columns:
        result = _resize_axis(result, columns, axis=-1)
    if out is None:
        return np.array(result, dtype=np.float32, copy=result is images)
    out[...] = result
    return out


def nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """(out_size,) source index of each output pixel, pixel centres aligned."""
    scale = np.float32(in_size / out_size)
    centers = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
    return np.minimum(np.floor(centers).astype(np.int64), in_size - 1)


def resize_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of the last two axes of integer ``labels`` to ``size``.

    Args:
        labels: (..., R, C) integer labels.
        size: (rows, columns) of the result, pixels.

    Returns:
        (..., rows, columns), the dtype of ``labels``.
    """
    rows = nearest_indices(labels.shape[-2], size[0])
    columns = nearest_indices(labels.shape[-1], size[1])
    return labels[..., rows[:, None], columns[None, :]]


def _resize_axis(array: np.ndarray, out_size: int, axis: int) -> np.ndarray:
    indices, weights = linear_resize_weights(array.shape[axis], out_size)
    shape = [1] * array.ndim
    shape[axis] = out_size
    result = np.zeros((*array.shape[:axis], out_size, *array.shape[axis:][1:]), np.float32)
    for tap in range(indices.shape[1]):
        result += array.take(indices[:, tap], axis=axis) * weights[:, tap].reshape(shape)
    return result
