"""Fixtures for the preprocessing tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from samseg.dataset import RawDataset
from tests.preprocessing.preprocessing_helpers import synthetic_case, write_volume


@pytest.fixture
def raw_dataset(tmp_path: Path) -> Callable[..., RawDataset]:
    """Factory: a raw dataset of ``num_cases`` synthetic cases at ``spacing`` (z, y, x) mm."""

    def build(num_cases: int = 3, spacing: Sequence[float] = (3.0, 0.8, 0.6)) -> RawDataset:
        folder = tmp_path / "raw" / "Dataset990_Test"
        for index in range(num_cases):
            image, label = synthetic_case(index)
            write_volume(image, folder / "imagesTr" / f"case{index}_0000.nii.gz", spacing)
            write_volume(label, folder / "labelsTr" / f"case{index}.nii.gz", spacing)
        description = {
            "channel_names": {"0": "CT"},
            "labels": {"background": 0, "a": 1, "b": 2, "c": 3},
            "numTraining": num_cases,
            "file_ending": ".nii.gz",
        }
        (folder / "dataset.json").write_text(json.dumps(description))
        return RawDataset(folder)

    return build
