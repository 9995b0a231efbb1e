"""Which slices a training batch holds: random ones plus nnU-Net's foreground oversampling."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from samseg.preprocessing.properties import CaseProperties


@dataclass(frozen=True)
class SliceSample:
    """One training sample before it is read.

    Attributes:
        case_id: preprocessed case identifier.
        slice_index: index along the stored slice axis.
        foreground_value: label value the sample was drawn for (it occurs in the slice), or
            ``None`` for a random slice.
    """

    case_id: str
    slice_index: int
    foreground_value: int | None


def oversampled_count(batch_size: int, foreground_oversampling: float) -> int:
    """How many samples of a batch (its last ones) are drawn for foreground: the ceiling of
    ``batch_size * foreground_oversampling`` (1 of 2 and of 3 at 0.33, 4 of 12)."""
    return math.ceil(round(batch_size * foreground_oversampling, 9))


class SliceSampler:
    """Draws the slices of training batches.

    The first samples of a batch take a random case and a random slice of it. The last
    :func:`oversampled_count` samples take a random case, a foreground class uniformly among
    those present in it, and a random slice containing that class (from the case properties'
    ``class_slices``); a case without foreground gives a random slice, as in nnU-Net.

    Args:
        properties: case id -> properties of the cases to sample from.
        foreground_oversampling: fraction of each batch drawn for foreground, in [0, 1].
    """

    def __init__(
        self, properties: Mapping[str, CaseProperties], foreground_oversampling: float
    ) -> None:
        self.case_ids: Sequence[str] = list(properties)
        self.foreground_oversampling = foreground_oversampling
        self._num_slices = {c: p.shape_after_resampling[0] for c, p in properties.items()}
        self._class_slices = {
            c: {v: s for v, s in p.class_slices.items() if s} for c, p in properties.items()
        }

    def draw(self, rng: np.random.Generator, batch_size: int) -> list[SliceSample]:
        """``batch_size`` samples, the foreground ones last."""
        forced = oversampled_count(batch_size, self.foreground_oversampling)
        return [self._draw_one(rng, index >= batch_size - forced) for index in range(batch_size)]

    def _draw_one(self, rng: np.random.Generator, foreground: bool) -> SliceSample:
        case_id = self.case_ids[rng.integers(len(self.case_ids))]
        classes = self._class_slices[case_id]
        if foreground and classes:
            values = sorted(classes)
            value = values[rng.integers(len(values))]
            slices = classes[value]
            return SliceSample(case_id, int(slices[rng.integers(len(slices))]), value)
        return SliceSample(case_id, int(rng.integers(self._num_slices[case_id])), None)
