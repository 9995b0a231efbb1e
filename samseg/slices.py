"""How SAM's three input channels are made from a preprocessed volume.

Training and prediction both call :func:`sam_input_slices`, so a model always sees the same
kind of input. Preprocessed volumes are (channel, slice, row, column).

- One image channel (CT, most MR): the slice and its neighbours ``context`` slices away fill
  the three channels, (s - context, s, s + context); at the volume's edges the nearest slice
  is repeated (replication padding). ``context == 0`` repeats the slice three times.
- Several image channels (multi-parametric MR): channels are used in order and repeated
  cyclically to fill three (T2, ADC -> T2, ADC, T2); ``context`` must be 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SAM_CHANNELS = 3


def context_indices(center: int, num_slices: int, context: int) -> tuple[int, int, int]:
    """Slice indices (below, center, above) feeding one SAM input, clamped to the volume."""
    if not 0 <= center < num_slices:
        raise IndexError(f"slice {center} is outside a volume of {num_slices} slices")
    return (max(center - context, 0), center, min(center + context, num_slices - 1))


def sam_input_slices(volume, centers: Sequence[int], context: int) -> np.ndarray:
    """SAM inputs for the slices ``centers`` of ``volume``.

    Args:
        volume: (c, S, R, C) array-like supporting basic slicing (numpy or blosc2 NDArray);
            only the slices needed are read.
        centers: slice indices along axis 1.
        context: neighbour distance for single-channel volumes (see module docstring).

    Returns:
        (len(centers), 3, R, C) float32 array in the volume's intensity units (0-255 after
        samseg's normalization).
    """
    num_channels, num_slices = volume.shape[0], volume.shape[1]
    if num_channels > 1 and context:
        raise ValueError(f"context slices need a single-channel volume, found {num_channels}")
    if num_channels > SAM_CHANNELS:
        raise ValueError(f"SAM takes at most 3 image channels, found {num_channels}")
    if num_channels == 1:
        rows = [context_indices(c, num_slices, context) for c in centers]
        needed = sorted({i for row in rows for i in row})
        low, high = needed[0], needed[-1]
        if high - low + 1 <= 2 * len(needed):
            block = np.asarray(volume[0, low : high + 1], dtype=np.float32)
            return np.stack([block[[i - low for i in row]] for row in rows])
        read = {i: np.asarray(volume[0, i], dtype=np.float32) for i in needed}
        return np.stack([np.stack([read[i] for i in row]) for row in rows])
    order = [c % num_channels for c in range(SAM_CHANNELS)]
    return np.stack([np.asarray(volume[:, c], dtype=np.float32)[order] for c in centers])
