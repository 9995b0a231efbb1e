"""The report's statistics: per method, class and metric a mean with its 95 % bootstrap
interval over cases, and the paired difference against the baseline with its Wilcoxon test.

``overall`` is, per case, the mean over the foreground classes defined in that case, then the
interval over cases (so it weights cases equally, like the per-class rows).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from samseg.comparison.results import MethodResults
from samseg.comparison.statistics import (
    Interval,
    PairedDifference,
    bootstrap_interval,
    paired_difference,
)
from samseg.evaluation import EvaluationLabels

REPORT_METRICS = {"Dice": "Dice", "HD95": "HD95 (mm)", "NSD": "NSD"}
"""summary.json metric name -> its column title."""

OVERALL = "overall"


@dataclass(frozen=True)
class MethodStatistics:
    """One method's intervals and paired differences.

    Attributes:
        intervals: row (class name or ``overall``) -> metric -> interval over cases.
        paired: the same rows -> metric -> difference against the baseline (empty for the
            baseline itself).
    """

    intervals: dict[str, dict[str, Interval]]
    paired: dict[str, dict[str, PairedDifference]]


def foreground_classes(labels: EvaluationLabels) -> list[tuple[str, str]]:
    """(class key, class name) of every scored class but background."""
    return [(k, n) for k, n in zip(labels.keys, labels.names, strict=True) if k != "0"]


def case_values(
    result: MethodResults, cases: Sequence[str], classes: list[tuple[str, str]], metric: str
) -> dict[str, list[float]]:
    """Row -> the metric's value per case (in ``cases`` order), ``overall`` included."""
    rows = {
        name: [float(result.cases[case][key][metric]) for case in cases] for key, name in classes
    }
    stacked = np.asarray([rows[name] for _, name in classes], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a case with no defined class: NaN
        rows[OVERALL] = np.nanmean(stacked, axis=0).tolist()
    return rows


def compute_statistics(
    results: Sequence[MethodResults],
    labels: EvaluationLabels,
    baseline: str,
    samples: int,
    seed: int,
) -> dict[str, MethodStatistics]:
    """Method name -> its statistics (the module docstring)."""
    classes = foreground_classes(labels)
    by_name = {result.name: result for result in results}
    cases = sorted(by_name[baseline].cases)
    values = {
        result.name: {m: case_values(result, cases, classes, m) for m in REPORT_METRICS}
        for result in results
    }
    reference = values[baseline]
    statistics = {}
    for name, metrics in values.items():
        rows = list(metrics["Dice"])
        intervals = {
            row: {m: bootstrap_interval(metrics[m][row], samples, seed) for m in REPORT_METRICS}
            for row in rows
        }
        paired = {}
        if name != baseline:
            paired = {
                row: {
                    m: paired_difference(metrics[m][row], reference[m][row], samples, seed)
                    for m in REPORT_METRICS
                }
                for row in rows
            }
        statistics[name] = MethodStatistics(intervals, paired)
    return statistics
