"""The Synapse multi-organ protocol: BTCV label map, the 8 organ labels, the standard split.

Synapse (as TransUNet, SAMed and most SAM papers use it) is the 30 labelled training scans of
the BTCV abdomen challenge (cases 1-10 and 21-40) reduced to 8 organs, with 18 cases for
training and 12 for testing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

SYNAPSE_LABELS: Mapping[str, int] = MappingProxyType(
    {
        "background": 0,
        "spleen": 1,
        "right_kidney": 2,
        "left_kidney": 3,
        "gallbladder": 4,
        "liver": 5,
        "stomach": 6,
        "aorta": 7,
        "pancreas": 8,
    }
)

BTCV_TO_SYNAPSE: Mapping[int, int] = MappingProxyType(
    {1: 1, 2: 2, 3: 3, 4: 4, 6: 5, 7: 6, 8: 7, 11: 8}
)
"""BTCV label value -> Synapse label value; every BTCV value not listed becomes 0."""

SYNAPSE_CASES: tuple[int, ...] = (*range(1, 11), *range(21, 41))
"""BTCV case numbers of the 30 labelled scans (``img0001.nii.gz`` is case 1)."""

SYNAPSE_TEST_CASES: frozenset[int] = frozenset({1, 2, 3, 4, 8, 22, 25, 29, 32, 35, 36, 38})
"""The 12 test cases of the standard split; the other 18 are training cases."""

CASE_PREFIX = "synapse"


def synapse_case_id(case_number: int) -> str:
    """The nnU-Net case identifier of a BTCV/Synapse case number (``1`` -> ``synapse_0001``)."""
    return f"{CASE_PREFIX}_{case_number:04d}"


def is_test_case(case_number: int) -> bool:
    """Whether a BTCV/Synapse case number belongs to the test split."""
    return case_number in SYNAPSE_TEST_CASES


def map_btcv_labels(labels: np.ndarray) -> np.ndarray:
    """Map a BTCV label array (any shape, integer values) to Synapse's 8 organs, as uint8.

    Values absent from :data:`BTCV_TO_SYNAPSE` (negative ones included) become background.
    """
    values = np.asarray(labels).astype(np.int64, copy=False)
    lookup = np.zeros(max(int(values.max(initial=0)), max(BTCV_TO_SYNAPSE)) + 1, dtype=np.uint8)
    for source, target in BTCV_TO_SYNAPSE.items():
        lookup[source] = target
    mapped = lookup[np.clip(values, 0, None)]
    mapped[values < 0] = 0
    return mapped
