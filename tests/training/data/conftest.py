"""Fixtures of the training-data tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from samseg.plans import LabelHandling
from tests.training.data.stores import LABELS, ramp_case, save_test_case


@pytest.fixture
def store(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a data folder holding ``cases`` (id -> (data, label)), default 3 ramp cases."""

    def make(
        cases: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
        label_handling: LabelHandling = LABELS,
    ) -> Path:
        folder = tmp_path / "samsegPlans_2d"
        cases = cases or {f"case{i}": ramp_case(i) for i in range(3)}
        for identifier, (data, label) in cases.items():
            save_test_case(folder, identifier, data, label, label_handling)
        return folder

    return make
