"""The Synapse label map and split."""

from __future__ import annotations

import numpy as np

from samseg.conversion import (
    SYNAPSE_CASES,
    SYNAPSE_LABELS,
    SYNAPSE_TEST_CASES,
    map_btcv_labels,
    synapse_case_id,
)


def test_btcv_map_is_exact_for_every_btcv_value() -> None:
    btcv = np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 300])
    expected = np.array([0, 0, 1, 2, 3, 4, 0, 5, 6, 7, 0, 0, 8, 0, 0, 0, 0])
    mapped = map_btcv_labels(btcv)
    assert mapped.dtype == np.uint8
    np.testing.assert_array_equal(mapped, expected)


def test_map_keeps_shape() -> None:
    labels = np.full((2, 3, 4), 11, dtype=np.int16)
    assert map_btcv_labels(labels).shape == (2, 3, 4)
    assert (map_btcv_labels(labels) == 8).all()


def test_labels_are_the_eight_synapse_organs_in_order() -> None:
    assert list(SYNAPSE_LABELS) == [
        "background",
        "spleen",
        "right_kidney",
        "left_kidney",
        "gallbladder",
        "liver",
        "stomach",
        "aorta",
        "pancreas",
    ]
    assert list(SYNAPSE_LABELS.values()) == list(range(9))


def test_standard_split() -> None:
    assert len(SYNAPSE_CASES) == 30
    assert sorted(SYNAPSE_TEST_CASES) == [1, 2, 3, 4, 8, 22, 25, 29, 32, 35, 36, 38]
    train = sorted(set(SYNAPSE_CASES) - SYNAPSE_TEST_CASES)
    assert train == [5, 6, 7, 9, 10, 21, 23, 24, 26, 27, 28, 30, 31, 33, 34, 37, 39, 40]
    assert synapse_case_id(5) == "synapse_0005"
