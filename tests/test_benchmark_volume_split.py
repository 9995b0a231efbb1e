"""benchmarks/volume_split.py: a scan cut into training pieces and a held-out slab keeps every
voxel where it was (values, spacing, direction, physical position)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from benchmarks.volume_split import SlabSplit, crop_slices, write_split_dataset

DIRECTION = (0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0)  # rotated in-plane


def make_volume(values: np.ndarray) -> sitk.Image:
    """An image of ``values`` (z, y, x) with anisotropic spacing, an origin and a rotation."""
    image = sitk.GetImageFromArray(values)
    image.SetSpacing((0.8, 0.9, 2.5))
    image.SetOrigin((10.0, -20.0, 30.0))
    image.SetDirection(DIRECTION)
    return image


def write_source(folder: Path, num_slices: int) -> np.ndarray:
    """A one-case raw dataset ``case`` of ``num_slices`` slices; returns its label array."""
    rng = np.random.default_rng(0)
    image = rng.normal(size=(num_slices, 5, 6)).astype(np.float32)
    label = (np.arange(num_slices)[:, None, None] % 3 * np.ones((1, 5, 6))).astype(np.uint8)
    for sub in ("imagesTr", "labelsTr"):
        (folder / sub).mkdir(parents=True)
    sitk.WriteImage(make_volume(image), str(folder / "imagesTr" / "case_0000.nii.gz"))
    sitk.WriteImage(make_volume(label), str(folder / "labelsTr" / "case.nii.gz"))
    dataset = {"channel_names": {"0": "CT"}, "labels": {"background": 0, "a": 1, "b": 2},
               "numTraining": 1, "file_ending": ".nii.gz"}
    (folder / "dataset.json").write_text(json.dumps(dataset))
    return label


def test_crop_keeps_values_spacing_direction_and_physical_position() -> None:
    values = np.arange(7 * 3 * 4, dtype=np.int16).reshape(7, 3, 4)
    image = make_volume(values)
    crop = crop_slices(image, 2, 5)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(crop), values[2:5])
    assert crop.GetSpacing() == image.GetSpacing()
    assert crop.GetDirection() == image.GetDirection()
    for index in [(0, 0, 0), (3, 2, 2)]:
        shifted = (index[0], index[1], index[2] + 2)
        np.testing.assert_allclose(
            crop.TransformIndexToPhysicalPoint(index),
            image.TransformIndexToPhysicalPoint(shifted),
        )


def test_split_writes_both_sides_and_the_slab(tmp_path: Path) -> None:
    label = write_source(tmp_path / "source", 12)
    target = tmp_path / "Dataset950_Split"
    cases = write_split_dataset(
        tmp_path / "source", "case", SlabSplit.centred(6, 3), target, description="d"
    )
    assert cases == {"train": ["case_lo", "case_hi"], "test": ["case_slab"]}
    expected = {"labelsTr/case_lo": label[:5], "labelsTr/case_hi": label[8:],
                "labelsTs/case_slab": label[5:8]}
    for name, values in expected.items():
        written = sitk.ReadImage(str(target / f"{name}.nii.gz"))
        np.testing.assert_array_equal(sitk.GetArrayFromImage(written), values)
    slab = sitk.ReadImage(str(target / "imagesTs" / "case_slab_0000.nii.gz"))
    source = sitk.ReadImage(str(tmp_path / "source" / "imagesTr" / "case_0000.nii.gz"))
    np.testing.assert_allclose(
        slab.GetOrigin(), source.TransformIndexToPhysicalPoint((0, 0, 5)), atol=1e-6
    )
    dataset = json.loads((target / "dataset.json").read_text())
    assert dataset["numTraining"] == 2 and dataset["name"] == "Split"


def test_slab_at_the_start_leaves_one_training_piece(tmp_path: Path) -> None:
    write_source(tmp_path / "source", 6)
    cases = write_split_dataset(
        tmp_path / "source", "case", SlabSplit(0, 2), tmp_path / "Dataset951_A", description="d"
    )
    assert cases["train"] == ["case_hi"]
    assert SlabSplit(0, 2).training_pieces(6) == {"hi": (2, 6)}


def test_bad_slab_and_existing_target_are_refused(tmp_path: Path) -> None:
    write_source(tmp_path / "source", 6)
    with pytest.raises(ValueError, match="expected 0 <= start < stop <= 6"):
        SlabSplit.centred(5, 4).training_pieces(6)
    (tmp_path / "Dataset952_B").mkdir()
    with pytest.raises(FileExistsError, match="found an existing one"):
        write_split_dataset(
            tmp_path / "source", "case", SlabSplit(1, 2), tmp_path / "Dataset952_B",
            description="d",
        )
