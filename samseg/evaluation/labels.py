"""Which classes an evaluation scores: labels or regions, their names and the ignore label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from samseg.dataset import LabelScheme

LabelOrRegion = int | tuple[int, ...]
"""One evaluated class: a label value, or a region (the union of several label values)."""


def class_key(label_or_region: LabelOrRegion) -> str:
    """The summary.json key of a class, as nnU-Net writes it: ``"1"``, ``"(1, 2, 3)"``."""
    return str(label_or_region)


def class_values(label_or_region: LabelOrRegion) -> tuple[int, ...]:
    """The label values a class is made of (one value for a label, several for a region)."""
    if isinstance(label_or_region, tuple):
        return label_or_region
    return (label_or_region,)


def class_mask(segmentation: np.ndarray, label_or_region: LabelOrRegion) -> np.ndarray:
    """Boolean mask, same shape as ``segmentation``, of the voxels that belong to a class."""
    values = class_values(label_or_region)
    if len(values) == 1:
        return segmentation == values[0]
    return np.isin(segmentation, values)


@dataclass(frozen=True)
class EvaluationLabels:
    """The classes to score, in order, with their display names.

    Attributes:
        classes: label values and/or regions (tuples of values), nnU-Net's
            ``labels_or_regions``. Background is scored only when listed.
        names: one display name per class.
        ignore_label: voxels with this value in the reference are left out of every metric.
        allowed_values: every value a reference or prediction file may hold; a file with any
            other value is an error. ``None`` when unknown (labels given by hand).
    """

    classes: tuple[LabelOrRegion, ...]
    names: tuple[str, ...]
    ignore_label: int | None = None
    allowed_values: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if not self.classes:
            raise ValueError("EvaluationLabels: expected at least one class, found none")
        if len(self.names) != len(self.classes):
            raise ValueError(
                f"EvaluationLabels: expected one name per class ({len(self.classes)}), "
                f"found {len(self.names)}"
            )
        keys = [class_key(c) for c in self.classes]
        if len(set(keys)) != len(keys):
            raise ValueError(f"EvaluationLabels: expected distinct classes, found {keys}")
        values = {v for c in self.classes for v in class_values(c)}
        if min(values) < 0:
            raise ValueError(f"EvaluationLabels: expected non-negative labels, found {keys}")
        if self.ignore_label is not None and self.ignore_label in values:
            raise ValueError(
                f"EvaluationLabels: the ignore label {self.ignore_label} cannot be scored as a "
                f"class, found it in {keys}"
            )

    @classmethod
    def from_scheme(cls, scheme: LabelScheme) -> EvaluationLabels:
        """The foreground labels (or regions) of a dataset.json, as nnU-Net evaluates them."""
        named = [(name, v) for name, v in scheme.names.items() if v != 0 and v != (0,)]
        if scheme.has_regions:
            classes = tuple(v if isinstance(v, tuple) else (v,) for _, v in named)
        else:
            classes = tuple(v for _, v in named)
        return cls(
            classes=classes,
            names=tuple(name for name, _ in named),
            ignore_label=scheme.ignore_label,
            allowed_values=frozenset(scheme.label_values),
        )

    @classmethod
    def from_values(
        cls, values: Sequence[LabelOrRegion], ignore_label: int | None = None
    ) -> EvaluationLabels:
        """Classes given by hand (``-l 1 2 3``); names are ``label 1``, ``region (1, 2)``."""
        classes = tuple(tuple(v) if isinstance(v, list | tuple) else int(v) for v in values)
        names = tuple(
            f"region {class_key(c)}" if isinstance(c, tuple) else f"label {c}" for c in classes
        )
        return cls(classes=classes, names=names, ignore_label=ignore_label)

    @property
    def keys(self) -> tuple[str, ...]:
        """summary.json keys of the classes, in order."""
        return tuple(class_key(c) for c in self.classes)

    @property
    def highest_value(self) -> int:
        """The largest label value any class is made of."""
        return max(v for c in self.classes for v in class_values(c))
