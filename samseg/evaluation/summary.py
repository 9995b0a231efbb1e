"""The result of an evaluation and its summary.json form (nnU-Net v2's format).

summary.json holds nnU-Net's three keys::

    foreground_mean   metric -> mean over the foreground classes of the per-class means
    mean              class key -> metric -> mean over cases (NaN values left out)
    metric_per_case   [{"metrics": {class key: {metric: value}}, "prediction_file": ...,
                        "reference_file": ...}, ...]

and samseg's ``foreground_mean_of_defined_classes``, ``classes_left_out_of_defined_mean``,
``missing_cases``, ``predictions_without_reference`` and ``settings``. Class keys are nnU-Net's
(``"1"``, ``"(1, 2)"``). As in nnU-Net, the foreground mean skips class ``"0"`` and is NaN when
a class mean is; the mean of defined classes leaves such classes out instead, per metric.
Undefined values are written as ``NaN``, which Python's json module (and nnU-Net's
``load_summary_json``) reads back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samseg.evaluation.case import CaseResult
from samseg.evaluation.labels import EvaluationLabels
from samseg.evaluation.metrics import METRIC_NAMES, Metrics


@dataclass(frozen=True)
class MissingCase:
    """A reference whose prediction file does not exist."""

    identifier: str
    reference_file: Path
    expected_prediction_file: Path


@dataclass(frozen=True)
class EvaluationSummary:
    """Per-case metrics, their means, and what could not be evaluated.

    Attributes:
        cases: one result per evaluated case, sorted by identifier.
        labels: the classes scored.
        mean: class key -> metric -> mean over cases, NaN values left out.
        foreground_mean: metric -> mean over the classes other than ``"0"`` of ``mean``
            (nnU-Net's: NaN as soon as one class mean is NaN).
        defined_foreground_mean: metric -> mean over the classes other than ``"0"`` whose
            mean of that metric is defined (NaN only when none is).
        left_out_of_defined_mean: metric -> class keys whose mean is NaN, left out of
            ``defined_foreground_mean``; only metrics that leave a class out appear.
        missing_cases: references without a prediction (not evaluated).
        predictions_without_reference: prediction files no reference matches (not evaluated).
        synapse_protocol: whether Dice and HD95 follow TransUNet's Synapse protocol.
        nsd_tolerance_mm: tolerance of the normalized surface Dice, in mm.
        output_file: where summary.json was written, if it was.
    """

    cases: tuple[CaseResult, ...]
    labels: EvaluationLabels
    mean: dict[str, Metrics]
    foreground_mean: Metrics
    defined_foreground_mean: Metrics
    left_out_of_defined_mean: dict[str, tuple[str, ...]]
    missing_cases: tuple[MissingCase, ...] = ()
    predictions_without_reference: tuple[Path, ...] = ()
    synapse_protocol: bool = False
    nsd_tolerance_mm: float = 2.0
    output_file: Path | None = None

    @classmethod
    def from_cases(
        cls,
        cases: Sequence[CaseResult],
        labels: EvaluationLabels,
        *,
        missing_cases: Sequence[MissingCase] = (),
        predictions_without_reference: Sequence[Path] = (),
        synapse_protocol: bool = False,
        nsd_tolerance_mm: float = 2.0,
        output_file: Path | None = None,
    ) -> EvaluationSummary:
        """Average per-case results over cases, then over foreground classes."""
        ordered = tuple(sorted(cases, key=lambda c: c.identifier))
        mean = {
            key: {m: _nan_mean([c.metrics[key][m] for c in ordered]) for m in METRIC_NAMES}
            for key in labels.keys
        }
        foreground = [key for key in labels.keys if key != "0"]
        foreground_mean = {
            m: float(np.mean([mean[k][m] for k in foreground])) if foreground else float("nan")
            for m in METRIC_NAMES
        }
        defined_mean = {m: _nan_mean([mean[k][m] for k in foreground]) for m in METRIC_NAMES}
        left_out = {
            m: undefined
            for m in METRIC_NAMES
            if (undefined := tuple(k for k in foreground if np.isnan(mean[k][m])))
        }
        return cls(
            cases=ordered,
            labels=labels,
            mean=mean,
            foreground_mean=foreground_mean,
            defined_foreground_mean=defined_mean,
            left_out_of_defined_mean=left_out,
            missing_cases=tuple(missing_cases),
            predictions_without_reference=tuple(predictions_without_reference),
            synapse_protocol=synapse_protocol,
            nsd_tolerance_mm=nsd_tolerance_mm,
            output_file=output_file,
        )

    @property
    def hd95_unit(self) -> str:
        """``"voxels"`` under the Synapse protocol, ``"mm"`` otherwise."""
        return "voxels" if self.synapse_protocol else "mm"

    def to_json(self) -> dict:
        """The summary.json content."""
        return {
            "foreground_mean": dict(self.foreground_mean),
            "mean": {key: dict(metrics) for key, metrics in self.mean.items()},
            "metric_per_case": [
                {
                    "metrics": {key: dict(metrics) for key, metrics in case.metrics.items()},
                    "prediction_file": str(case.prediction_file),
                    "reference_file": str(case.reference_file),
                }
                for case in self.cases
            ],
            "foreground_mean_of_defined_classes": dict(self.defined_foreground_mean),
            "classes_left_out_of_defined_mean": {
                metric: list(keys) for metric, keys in self.left_out_of_defined_mean.items()
            },
            "missing_cases": [
                {
                    "case": missing.identifier,
                    "reference_file": str(missing.reference_file),
                    "expected_prediction_file": str(missing.expected_prediction_file),
                }
                for missing in self.missing_cases
            ],
            "predictions_without_reference": [str(p) for p in self.predictions_without_reference],
            "settings": {
                "protocol": "synapse" if self.synapse_protocol else "default",
                "hd95_unit": self.hd95_unit,
                "nsd_tolerance_mm": self.nsd_tolerance_mm,
                "ignore_label": self.labels.ignore_label,
                "class_names": dict(zip(self.labels.keys, self.labels.names, strict=True)),
            },
        }


def _nan_mean(values: Sequence[float | int]) -> float:
    """Mean of the values that are not NaN; NaN when there are none."""
    kept = [v for v in values if not np.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")
