"""Finding the cases in INPUT: CASE_XXXX files, single files and DICOM series folders."""

from __future__ import annotations

import numpy as np
import pytest

from samseg.errors import SamsegInputError
from samseg.inference import find_cases
from tests.conftest import write_dicom_series
from tests.inference.helpers import make_description, make_plans, write_image


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
