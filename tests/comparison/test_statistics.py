"""The report's statistics against references: the percentile bootstrap, scipy's Wilcoxon."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import wilcoxon

from samseg.comparison.statistics import bootstrap_interval, paired_difference

VALUES = [0.91, 0.85, 0.78, 0.95, 0.88, 0.60, 0.83]


def test_bootstrap_interval_is_the_percentile_bootstrap_and_contains_the_mean():
    interval = bootstrap_interval(VALUES, samples=1000, seed=3)
    rng = np.random.default_rng(3)
    data = np.asarray(VALUES)
    means = data[rng.integers(0, data.size, size=(1000, data.size))].mean(axis=1)
    assert interval.mean == pytest.approx(np.mean(VALUES))
    assert (interval.low, interval.high) == pytest.approx(tuple(np.percentile(means, (2.5, 97.5))))
    assert interval.low < interval.mean < interval.high
    assert interval.cases == len(VALUES)
    assert bootstrap_interval(VALUES, samples=1000, seed=3) == interval


def test_bootstrap_interval_leaves_undefined_cases_out():
    interval = bootstrap_interval([0.5, float("nan"), 0.5], samples=200, seed=0)
    assert (interval.mean, interval.low, interval.high, interval.cases) == (0.5, 0.5, 0.5, 2)
    assert bootstrap_interval([float("nan")], samples=200, seed=0).cases == 0


def test_paired_difference_is_method_minus_baseline_with_scipys_wilcoxon():
    baseline = [0.70, 0.72, 0.65, 0.80, 0.75, 0.50, 0.71]
    paired = paired_difference(VALUES, baseline, samples=500, seed=1)
    differences = np.subtract(VALUES, baseline)
    assert paired.difference.mean == pytest.approx(differences.mean())
    assert paired.difference.mean > 0
    assert paired.wilcoxon_p == pytest.approx(wilcoxon(differences).pvalue)
    assert paired.wilcoxon_p == pytest.approx(2 / 2**7)  # every difference positive, exact
    reverse = paired_difference(baseline, VALUES, samples=500, seed=1)
    assert reverse.difference.mean == pytest.approx(-paired.difference.mean)


def test_paired_difference_skips_undefined_pairs_and_equal_methods():
    nan = float("nan")
    paired = paired_difference([0.9, nan, 0.7], [0.8, 0.5, nan], samples=200, seed=0)
    assert paired.difference.cases == 1
    assert paired.difference.mean == pytest.approx(0.1)
    assert paired.wilcoxon_p == pytest.approx(wilcoxon([0.1]).pvalue)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns on all-zero differences
        assert paired_difference(VALUES, VALUES, samples=200, seed=0).wilcoxon_p == 1.0
