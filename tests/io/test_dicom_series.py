"""DICOM series folders: read as one volume, refused when slices do not form a uniform grid."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.io import SimpleITKIO, reader_writer_for
from tests.conftest import DICOM_SLICE_SPACING, write_dicom_series


@pytest.fixture
def volume() -> np.ndarray:
    return np.random.default_rng(1).integers(-1000, 1000, (6, 6, 8)).astype(np.int16)


def test_dicom_series_folder_reads_as_one_volume(tmp_path, volume):
    folder = write_dicom_series(tmp_path / "series", volume)
    images, geometry = reader_writer_for(folder).read_images([folder])
    np.testing.assert_array_equal(images[0], volume)
    assert geometry.spacing == pytest.approx((DICOM_SLICE_SPACING, 0.9, 0.9))
    assert geometry.origin == pytest.approx((10.0, -20.0, 30.0))


def test_series_with_a_missing_slice_is_refused_naming_the_gap(tmp_path, volume):
    folder = write_dicom_series(tmp_path / "series", volume)
    (folder / "slice003.dcm").unlink()
    with pytest.raises(SamsegInputError) as raised:
        SimpleITKIO().read_volume(folder)
    message = str(raised.value)
    assert message.startswith(f"{folder}: expected evenly spaced slices")
    assert "step of 6 mm between slice002.dcm (position 36 mm) and slice004.dcm" in message


def test_series_with_a_duplicated_position_is_refused(tmp_path, volume):
    folder = write_dicom_series(tmp_path / "series", volume, heights=[30, 33, 33, 36, 39, 42])
    with pytest.raises(SamsegInputError, match=r"step of 0 mm between slice001\.dcm"):
        SimpleITKIO().read_volume(folder)


def test_slice_with_another_orientation_is_refused_naming_it(tmp_path, volume):
    tilted = "1\\0\\0\\0\\0.9848077\\-0.1736482"
    folder = write_dicom_series(tmp_path / "series", volume, orientation={4: tilted})
    with pytest.raises(SamsegInputError, match=r"orientation .* found .* in slice004\.dcm"):
        SimpleITKIO().read_volume(folder)


def test_slice_with_another_size_is_refused_naming_it(tmp_path, volume):
    folder = write_dicom_series(tmp_path / "series", volume)
    other = write_dicom_series(tmp_path / "other", volume[:, :, :5])
    (other / "slice002.dcm").replace(folder / "slice002.dcm")
    with pytest.raises(SamsegInputError, match=r"6 rows and 8 columns.*5 columns in slice002"):
        SimpleITKIO().read_volume(folder)


def test_slice_without_a_position_is_refused_naming_it(tmp_path, volume):
    pydicom = pytest.importorskip("pydicom")
    folder = write_dicom_series(tmp_path / "series", volume)
    dataset = pydicom.dcmread(folder / "slice005.dcm")
    del dataset.ImagePositionPatient
    dataset.save_as(folder / "slice005.dcm")
    with pytest.raises(SamsegInputError, match=r"Image Position \(Patient\).*slice005\.dcm"):
        SimpleITKIO().read_volume(folder)


def test_small_position_jitter_reads_without_itk_warnings(tmp_path, volume, capfd):
    # Rounded positions (1 % of the spacing off) are accepted; ITK's own warning is silenced.
    heights = [30.0, 33.03, 36.0, 38.97, 42.0, 45.0]
    folder = write_dicom_series(tmp_path / "series", volume, heights=heights)
    assert sitk.ProcessObject.GetGlobalWarningDisplay()
    array, geometry = SimpleITKIO().read_volume(folder)
    np.testing.assert_array_equal(array, volume)
    assert geometry.spacing[0] == pytest.approx(DICOM_SLICE_SPACING)
    assert "WARNING" not in capfd.readouterr().err
    assert sitk.ProcessObject.GetGlobalWarningDisplay()


def test_series_with_every_slice_at_one_position_is_refused(tmp_path, volume):
    folder = write_dicom_series(tmp_path / "series", volume, heights=[30.0] * 6)
    with pytest.raises(SamsegInputError, match="mean spacing 0 mm"):
        SimpleITKIO().read_volume(folder)
