"""The measures of click evaluation, from voxel counts: Dice per step, NoC and NoF.

A *step* is one prompted state of a (case, class): ``box``, ``point``, then the state after
each corrective click 1 .. N. Per step the evaluation counts true positives, false positives
and false negatives over every slice of the case (volume counts), and Dice is taken from the
sums. NoC@t (number of clicks) is the first click count k in 1 .. N whose Dice reaches t; a
(case, class) that never reaches it counts N (capped) and is a failure (NoF@t counts them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NOC_THRESHOLDS: tuple[float, ...] = (0.85, 0.90)
"""Dice levels of NoC and NoF (NoC@85, NoC@90), as the interactive-segmentation field reports."""

REFERENCE_STEPS: tuple[str, ...] = ("box", "point")
"""The steps before the clicks, in the order the counts hold them."""


def threshold_name(threshold: float) -> str:
    """``85`` for 0.85: the suffix of ``NoC@85`` and ``NoF@85``."""
    return f"{100 * threshold:g}"


def dice_from_counts(true_positives: int, false_positives: int, false_negatives: int) -> float:
    """2 TP / (2 TP + FP + FN); NaN when reference and prediction are both empty."""
    denominator = 2 * true_positives + false_positives + false_negatives
    return math.nan if denominator == 0 else 2 * true_positives / denominator


def clicks_to_reach(click_dice: Sequence[float], threshold: float) -> tuple[int, bool]:
    """NoC of one (case, class): the first k (1-based) with ``click_dice[k-1] >= threshold``.

    Args:
        click_dice: Dice after click 1 .. N.
        threshold: the Dice to reach (0.85).

    Returns:
        (clicks, reached): (k, True), or (N, False) when no click reaches it.
    """
    for index, value in enumerate(click_dice):
        if value >= threshold:
            return index + 1, True
    return len(click_dice), False


@dataclass(frozen=True)
class ClassCounts:
    """The voxel counts of one (case, class) at every step.

    Attributes:
        counts: (2 + N, 3) int64: rows ``box``, ``point``, click 1 .. N; columns TP, FP, FN.
    """

    counts: np.ndarray

    @classmethod
    def zeros(cls, clicks: int) -> ClassCounts:
        return cls(np.zeros((len(REFERENCE_STEPS) + clicks, 3), dtype=np.int64))

    @property
    def clicks(self) -> int:
        """N, the corrective clicks counted."""
        return len(self.counts) - len(REFERENCE_STEPS)

    @property
    def reference_voxels(self) -> int:
        """Voxels of the class in the reference (TP + FN, the same at every step)."""
        return int(self.counts[0, 0] + self.counts[0, 2])

    def dice(self) -> list[float]:
        """Dice at every step (``box``, ``point``, click 1 .. N)."""
        return [dice_from_counts(*map(int, row)) for row in self.counts]

    def to_json(self) -> dict:
        """Counts, Dice and NoC / NoF of this (case, class); NoC is ``None`` (and no failure)
        when the class is absent from the reference (nothing was prompted)."""
        dice = self.dice()
        steps = [*REFERENCE_STEPS, *(f"click {k}" for k in range(1, self.clicks + 1))]
        result: dict = {
            "n_ref": self.reference_voxels,
            "box Dice": dice[0],
            "point Dice": dice[1],
            "click Dice": dice[len(REFERENCE_STEPS) :],
            "counts": {
                step: dict(zip(("TP", "FP", "FN"), map(int, row), strict=True))
                for step, row in zip(steps, self.counts, strict=True)
            },
        }
        for threshold in NOC_THRESHOLDS:
            name = threshold_name(threshold)
            if self.reference_voxels == 0:
                result[f"NoC@{name}"], result[f"failed@{name}"] = None, False
                continue
            clicks, reached = clicks_to_reach(result["click Dice"], threshold)
            result[f"NoC@{name}"], result[f"failed@{name}"] = clicks, not reached
        return result
