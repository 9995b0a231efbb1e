"""Label bookkeeping: which values a label map holds, checked against the plans, and per class
the slices that contain it (for foreground oversampling in training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.plans import LabelHandling


def slice_presence(labels: np.ndarray, num_values: int) -> np.ndarray:
    """Which values occur in which slice.

    Args:
        labels: (slice, row, column) integer labels in [0, num_values).
        num_values: one more than the largest possible value.

    Returns:
        (slice, num_values) boolean; entry [s, v] tells whether value v occurs in slice s.
    """
    presence = np.zeros((labels.shape[0], num_values), dtype=bool)
    for index, image in enumerate(labels):
        presence[index] = np.bincount(image.ravel(), minlength=num_values) > 0
    return presence


def check_label_values(labels: np.ndarray, label_handling: LabelHandling, path: Path) -> None:
    """Raise a SamsegInputError naming ``path`` when ``labels`` holds a value not in the plans.

    Args:
        labels: (z, y, x) integer labels as read.
        label_handling: the plans' label handling (``label_values`` are the allowed values).
        path: the label file, for the message.
    """
    allowed = sorted(label_handling.label_values)
    if labels.size == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high > allowed[-1]:
        raise SamsegInputError(
            f"{path}: expected label values in {allowed} (dataset.json labels), found values "
            f"from {low} to {high}"
        )
    present = np.flatnonzero(slice_presence(labels, allowed[-1] + 1).any(axis=0))
    unexpected = sorted(set(present.tolist()) - set(allowed))
    if unexpected:
        raise SamsegInputError(
            f"{path}: expected label values in {allowed} (dataset.json labels), found "
            f"{unexpected} as well"
        )


def class_slices(labels: np.ndarray, label_handling: LabelHandling) -> dict[int, tuple[int, ...]]:
    """Per foreground label value, the sorted indices of the slices that contain it.

    Args:
        labels: (slice, row, column) preprocessed labels, values within the plans' values.
        label_handling: the plans' label handling; background (0) and the ignore label get no
            entry, every other value gets one (empty when it does not occur), as nnU-Net
            collects foreground locations.

    Returns:
        label value -> slice indices (after the transpose that puts the slice axis first).
    """
    foreground = [
        v
        for v in sorted(label_handling.label_values)
        if v != 0 and v != label_handling.ignore_label
    ]
    if not foreground:
        return {}
    presence = slice_presence(labels, max(label_handling.label_values) + 1)
    return {v: tuple(int(s) for s in np.flatnonzero(presence[:, v])) for v in foreground}
