"""Confidence intervals over cases and the paired test of two methods.

Cases are the unit of resampling: a metric's value per case (one class, or the mean over the
foreground classes of a case) is resampled with replacement, ``samples`` times, and the 2.5 and
97.5 percentiles of the resampled means bound the 95 % interval (the percentile bootstrap).
Undefined values (NaN: a class absent from reference and prediction, HD95 of an empty mask)
are left out, as the means of summary.json leave them out. Two methods are compared on the
cases where both are defined: the mean paired difference with its bootstrap interval, and the
two-sided Wilcoxon signed-rank test (``scipy.stats.wilcoxon``) of the differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import wilcoxon

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean over cases and its bootstrap confidence interval (NaN without defined cases).

    Attributes:
        mean: mean of the defined values.
        low, high: the interval's bounds.
        cases: how many values were defined.
    """

    mean: float
    low: float
    high: float
    cases: int

    def to_json(self) -> dict:
        return {"mean": self.mean, "ci_low": self.low, "ci_high": self.high, "cases": self.cases}


@dataclass(frozen=True)
class PairedDifference:
    """``method - baseline`` over the cases where both are defined.

    Attributes:
        difference: the mean paired difference and its bootstrap interval.
        wilcoxon_p: two-sided p-value of the Wilcoxon signed-rank test; 1.0 when every
            difference is zero, NaN without a defined pair.
    """

    difference: Interval
    wilcoxon_p: float

    def to_json(self) -> dict:
        return {**self.difference.to_json(), "wilcoxon_p": self.wilcoxon_p}


def bootstrap_interval(values: Sequence[float], samples: int, seed: int) -> Interval:
    """Mean of ``values`` (NaN left out) and its 95 % percentile-bootstrap interval.

    Args:
        values: one value per case.
        samples: bootstrap resamples.
        seed: seeds the resampling (the same seed gives the same interval).
    """
    kept = np.asarray([v for v in values if not np.isnan(v)], dtype=np.float64)
    if kept.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    means = kept[rng.integers(0, kept.size, size=(samples, kept.size))].mean(axis=1)
    tail = 100 * (1 - CONFIDENCE) / 2
    low, high = np.percentile(means, (tail, 100 - tail))
    return Interval(float(kept.mean()), float(low), float(high), int(kept.size))


def paired_difference(
    method: Sequence[float], baseline: Sequence[float], samples: int, seed: int
) -> PairedDifference:
    """``method - baseline`` per case (same case order), its interval and Wilcoxon p-value."""
    pairs = np.asarray(list(zip(method, baseline, strict=True)), dtype=np.float64).reshape(-1, 2)
    defined = pairs[~np.isnan(pairs).any(axis=1)]
    differences = defined[:, 0] - defined[:, 1]
    interval = bootstrap_interval(differences.tolist(), samples, seed)
    if differences.size == 0:
        return PairedDifference(interval, float("nan"))
    if not np.any(differences):
        return PairedDifference(interval, 1.0)
    return PairedDifference(interval, float(wilcoxon(differences).pvalue))
