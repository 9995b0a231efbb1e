"""Click-evaluation results: one case's, and the summary over cases (prompt_summary.json).

prompt_summary.json holds::

    settings          how the network was prompted, and which network (see the run)
    classes           class key -> class name (keys as in summary.json: "1", "(1, 2)")
    mean              class key -> box Dice, point Dice, click Dice [N], NoC@85, NoC@90
                      (means over the cases holding the class), NoF@85, NoF@90 (counts),
                      cases (how many cases hold the class)
    foreground_mean   the same but cases, means over the classes of their means (NoF:
                      summed)
    metric_per_case   [{"identifier", "image_files", "label_file",
                        "metrics": {class key: per-case measures}}, ...]

Per case and class: ``n_ref`` (reference voxels), ``box Dice``, ``point Dice``, ``click
Dice`` (after click 1 .. N), ``NoC@85`` / ``NoC@90`` (``null`` when the class is absent),
``failed@85`` / ``failed@90`` and the TP / FP / FN of every step. Dice of a class absent
from a case is NaN (nothing is prompted, nothing predicted) and left out of the means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from samseg.evaluation.labels import EvaluationLabels
from samseg.evaluation.prompts.measures import (
    NOC_THRESHOLDS,
    REFERENCE_STEPS,
    ClassCounts,
    threshold_name,
)


@dataclass(frozen=True)
class PromptCaseResult:
    """The counts of one case.

    Attributes:
        identifier: the case identifier.
        image_files: its channel files.
        label_file: its reference label file.
        classes: class key -> counts at every step.
    """

    identifier: str
    image_files: tuple[str, ...]
    label_file: str
    classes: dict[str, ClassCounts]

    def to_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "image_files": list(self.image_files),
            "label_file": self.label_file,
            "metrics": {key: counts.to_json() for key, counts in self.classes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptCaseResult:
        """Inverse of :meth:`to_json` (the counts are read back, the measures recomputed)."""
        classes = {}
        for key, metrics in data["metrics"].items():
            rows = [[step["TP"], step["FP"], step["FN"]] for step in metrics["counts"].values()]
            classes[key] = ClassCounts(np.asarray(rows, dtype=np.int64))
        return cls(
            identifier=data["identifier"],
            image_files=tuple(data["image_files"]),
            label_file=data["label_file"],
            classes=classes,
        )


@dataclass(frozen=True)
class PromptSummary:
    """Per-case results and their means (see the module docstring).

    Attributes:
        cases: one result per case, sorted by identifier.
        labels: the classes prompted.
        clicks: N.
        mean: class key -> measure -> mean over the cases holding the class.
        foreground_mean: measure -> mean over the classes (NoF summed).
        settings: JSON-able record of how the evaluation ran.
        output_file: where prompt_summary.json was written, if it was.
    """

    cases: tuple[PromptCaseResult, ...]
    labels: EvaluationLabels
    clicks: int
    mean: dict[str, dict[str, Any]]
    foreground_mean: dict[str, Any]
    settings: dict[str, Any]
    output_file: Path | None = None

    @classmethod
    def from_cases(
        cls,
        cases: Sequence[PromptCaseResult],
        labels: EvaluationLabels,
        clicks: int,
        settings: dict[str, Any],
    ) -> PromptSummary:
        """Means per class over the cases holding it, and over the classes."""
        cases = tuple(sorted(cases, key=lambda case: case.identifier))
        mean = {
            key: _class_mean([case.classes[key] for case in cases], clicks) for key in labels.keys
        }
        return cls(cases, labels, clicks, mean, _foreground_mean(mean, clicks), settings)

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "classes": dict(zip(self.labels.keys, self.labels.names, strict=True)),
            "foreground_mean": self.foreground_mean,
            "mean": self.mean,
            "metric_per_case": [case.to_json() for case in self.cases],
        }


def _class_mean(counts: Sequence[ClassCounts], clicks: int) -> dict[str, Any]:
    """The means of one class over the cases holding it."""
    present = [c for c in counts if c.reference_voxels > 0]
    dice = np.array([c.dice() for c in present], dtype=np.float64).reshape(-1, 2 + clicks)
    references = len(REFERENCE_STEPS)
    result: dict[str, Any] = {
        "box Dice": _mean(dice[:, 0]),
        "point Dice": _mean(dice[:, 1]),
        "click Dice": [_mean(dice[:, references + k]) for k in range(clicks)],
    }
    measures = [c.to_json() for c in present]
    for threshold in NOC_THRESHOLDS:
        name = threshold_name(threshold)
        result[f"NoC@{name}"] = _mean([m[f"NoC@{name}"] for m in measures])
        result[f"NoF@{name}"] = sum(int(m[f"failed@{name}"]) for m in measures)
    result["cases"] = len(present)
    return result


def _foreground_mean(mean: dict[str, dict[str, Any]], clicks: int) -> dict[str, Any]:
    """Means over the classes of the class means (NaN ones left out); NoF summed."""
    classes = list(mean.values())
    result: dict[str, Any] = {
        "box Dice": _mean([m["box Dice"] for m in classes]),
        "point Dice": _mean([m["point Dice"] for m in classes]),
        "click Dice": [_mean([m["click Dice"][k] for m in classes]) for k in range(clicks)],
    }
    for threshold in NOC_THRESHOLDS:
        name = threshold_name(threshold)
        result[f"NoC@{name}"] = _mean([m[f"NoC@{name}"] for m in classes])
        result[f"NoF@{name}"] = sum(m[f"NoF@{name}"] for m in classes)
    return result


def _mean(values: Sequence[float]) -> float:
    """Mean of the defined values; NaN when none is."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    return sum(finite) / len(finite) if finite else math.nan
