"""The synthetic demo dataset: determinism, valid cases, anatomy, reruns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from samseg.conversion import DEMO_LABELS, make_demo_dataset, synthesize_demo_case
from samseg.dataset import RawDataset
from samseg.errors import SamsegInputError
from samseg.io import SimpleITKIO


def test_same_seed_same_bytes_other_seed_differs() -> None:
    first, again = synthesize_demo_case(0, 2), synthesize_demo_case(0, 2)
    assert first.image.tobytes() == again.image.tobytes()
    assert first.labels.tobytes() == again.labels.tobytes()
    assert first.geometry == again.geometry
    other = synthesize_demo_case(1, 2)
    assert other.image.shape != first.image.shape or not np.array_equal(other.image, first.image)
    test_case = synthesize_demo_case(0, 2, test=True)
    assert not np.array_equal(test_case.image[:1, :5, :5], first.image[:1, :5, :5])


def test_cases_are_ct_like_with_every_organ() -> None:
    spacings = set()
    for index in range(4):
        case = synthesize_demo_case(7, index)
        z, y, x = case.image.shape
        assert case.image.dtype == np.int16 and case.labels.dtype == np.uint8
        assert 16 <= z <= 32 and 96 <= y <= 128 and 96 <= x <= 128
        assert case.geometry.spacing[0] == 5.0
        assert 2.5 <= case.geometry.spacing[1] == case.geometry.spacing[2] <= 3.2
        assert all(abs(o) > 1.0 for o in case.geometry.origin)
        spacings.add(case.geometry.spacing[1])
        means = {}
        for name, value in DEMO_LABELS.items():
            mask = case.labels == value
            assert mask.sum() > 50, f"{name} missing in case {index}"
            means[name] = float(case.image[mask].mean())
        assert means["liver"] < means["spleen"] < means["kidney"] < means["aorta"]
        assert (case.image < -900).mean() > 0.1
        assert (case.image > 350).any()
    assert len(spacings) == 4


def test_liver_right_spleen_left() -> None:
    case = synthesize_demo_case(0, 0)
    origin_x, spacing_x = case.geometry.origin[0], case.geometry.spacing[2]
    direction_x = case.geometry.direction[0]
    x_world = origin_x + direction_x * spacing_x * np.arange(case.image.shape[2])

    def mean_x(label: int) -> float:
        columns = (case.labels == label).sum(axis=(0, 1))
        return float((x_world * columns).sum() / columns.sum())

    assert (
        mean_x(DEMO_LABELS["liver"]) < mean_x(DEMO_LABELS["aorta"]) < mean_x(DEMO_LABELS["spleen"])
    )


def test_dataset_is_valid_and_deterministic(tmp_path: Path) -> None:
    folder = make_demo_dataset(tmp_path / "a", num_train=3, num_test=2, seed=4)
    assert folder == tmp_path / "a" / "Dataset001_Demo"
    for split, count in (("imagesTr", 3), ("labelsTr", 3), ("imagesTs", 2), ("labelsTs", 2)):
        assert len(list((folder / split).iterdir())) == count
    raw = RawDataset(folder)
    assert raw.description.channel_names == ("CT",)
    assert raw.description.extra["name"] == "Demo"
    assert raw.description.extra["description"]
    declared = set(raw.description.labels.label_values)
    io = SimpleITKIO()
    for case in raw.training_cases:
        image, geometry = io.read_volume(case.images[0])
        labels, label_geometry = io.read_volume(case.label)
        assert image.dtype == np.int16
        assert image.shape == labels.shape
        assert geometry == label_geometry
        assert set(np.unique(labels)) == declared
    other = make_demo_dataset(tmp_path / "b", num_train=3, num_test=2, seed=4)
    for name in ("imagesTr/demo_0002_0000.nii.gz", "labelsTs/demo_test_0001.nii.gz"):
        first, _ = io.read_volume(folder / name)
        second, _ = io.read_volume(other / name)
        assert first.tobytes() == second.tobytes()


def test_rerun_skip_overwrite_and_parameter_change(tmp_path: Path) -> None:
    folder = make_demo_dataset(tmp_path, num_train=2, num_test=1, name="Tiny", dataset_id=9)
    assert folder.name == "Dataset009_Tiny"
    image = folder / "imagesTr" / "demo_0000_0000.nii.gz"
    before = image.stat().st_mtime_ns
    make_demo_dataset(tmp_path, num_train=2, num_test=1, name="Tiny", dataset_id=9)
    assert image.stat().st_mtime_ns == before
    with pytest.raises(SamsegInputError, match="pass --overwrite"):
        make_demo_dataset(tmp_path, num_train=1, num_test=1, name="Tiny", dataset_id=9)
    make_demo_dataset(tmp_path, 9, "Tiny", num_train=1, num_test=1, overwrite=True)
    assert image.stat().st_mtime_ns != before
    assert sorted(p.name for p in (folder / "imagesTr").iterdir()) == ["demo_0000_0000.nii.gz"]
    assert RawDataset(folder).description.num_training == 1


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SamsegInputError, match="num_train >= 1"):
        make_demo_dataset(tmp_path, num_train=0)
