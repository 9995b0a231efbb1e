"""Finding the cases in INPUT: CASE_XXXX files, single files and DICOM series folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.inference import find_cases
from tests.inference.helpers import make_description, make_plans, write_image


def write_dicom_series(folder: Path, volume: np.ndarray) -> Path:
    """Write a (z, y, x) int16 volume as one DICOM series, a file per slice."""
    image = sitk.GetImageFromArray(volume)
    image.SetSpacing((0.9, 0.9, 3.0))
    folder.mkdir(parents=True)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for index in range(volume.shape[0]):
        slice_image = image[:, :, index]
        position = image.TransformIndexToPhysicalPoint((0, 0, index))
        tags = {
            "0020|000e": "1.2.826.0.1.3680043.2.1125.7",
            "0020|0032": "\\".join(map(str, position)),
            "0020|0013": str(index + 1),
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0008|0060": "CT",
        }
        for tag, value in tags.items():
            slice_image.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{index:03d}.dcm"))
        writer.Execute(slice_image)
    return folder


@pytest.fixture
def description():
    return make_description(make_plans())


def test_case_files_single_files_and_dicom_series(tmp_path, description):
    volume = np.arange(2 * 8 * 8, dtype=np.int16).reshape(2, 8, 8)
    folder = tmp_path / "images"
    write_image(folder / "b_0000.nii.gz", volume, (3.0, 1.0, 1.0))
    write_image(folder / "a_0000.nii.gz", volume, (3.0, 1.0, 1.0))
    (folder / "notes.txt").write_text("")
    single = write_image(tmp_path / "single_0000.nrrd", volume, (3.0, 1.0, 1.0))
    series = write_dicom_series(tmp_path / "series" / "patient7", volume)
    cases = find_cases([folder, single, series.parent], description)
    assert list(cases) == ["a", "b", "patient7", "single"]
    assert cases["a"] == [folder / "a_0000.nii.gz"]
    assert cases["single"] == [single]
    assert cases["patient7"] == [series]
    assert find_cases([series], description) == {"patient7": [series]}


def test_unusable_inputs_are_errors_naming_them(tmp_path, description):
    with pytest.raises(SamsegInputError, match="no such file or folder"):
        find_cases([tmp_path / "missing"], description)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SamsegInputError, match="found neither"):
        find_cases([tmp_path / "empty"], description)
    volume = np.zeros((2, 4, 4), np.int16)
    first = write_image(tmp_path / "x" / "a_0000.nii.gz", volume, (1, 1, 1))
    second = write_image(tmp_path / "y" / "a_0000.nii.gz", volume, (1, 1, 1))
    with pytest.raises(SamsegInputError, match="also in"):
        find_cases([first, second], description)
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(SamsegInputError, match=r"notes\.txt"):
        find_cases([tmp_path / "notes.txt"], description)
