"""Readers/writers: (c, z, y, x) arrays, geometry kept, labels written with the image geometry."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry, NibabelIO, SimpleITKIO, reader_writer_for

SHARED_MR = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "mr_example" / "mr_0000.nii.gz"
)

# Direction matrices (SimpleITK, LPS world) of files stored in RAS, LPS and LAS voxel order.
ORIENTATIONS = {
    "RAS": (-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0),
    "LPS": (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0),
    "LAS": (1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0),
}


def write_sitk(
    path: Path,
    array: np.ndarray,
    direction,
    spacing_xyz=(0.8, 0.7, 2.5),
    origin=(-12.5, 30.25, 7.0),
) -> None:
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing_xyz)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    sitk.WriteImage(image, str(path))


@pytest.fixture
def volume() -> np.ndarray:
    return np.random.default_rng(0).normal(0, 100, (5, 7, 9)).astype(np.float32)


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
@pytest.mark.parametrize("reader_writer", [SimpleITKIO(), NibabelIO()], ids=lambda r: r.name)
def test_label_written_back_has_exactly_the_image_geometry(
    tmp_path, volume, orientation, reader_writer
):
    image_path = tmp_path / "case_0000.nii.gz"
    write_sitk(image_path, volume, ORIENTATIONS[orientation])
    images, geometry = reader_writer.read_images([image_path])
    assert images.shape == (1, 5, 7, 9)
    np.testing.assert_array_equal(images[0], volume)
    assert geometry.spacing == pytest.approx((2.5, 0.7, 0.8))
    assert geometry.direction == pytest.approx(ORIENTATIONS[orientation])

    label = (volume > 0).astype(np.uint8) + (volume > 100)
    label_path = tmp_path / "case.nii.gz"
    reader_writer.write_segmentation(label, label_path, geometry)
    read_back, label_geometry = reader_writer.read_segmentation(label_path)
    np.testing.assert_array_equal(read_back[0], label)
    assert label_geometry == geometry
    reference = sitk.ReadImage(str(image_path))
    written = sitk.ReadImage(str(label_path))
    assert written.GetSpacing() == reference.GetSpacing()
    assert written.GetOrigin() == reference.GetOrigin()
    assert written.GetDirection() == reference.GetDirection()
    if isinstance(reader_writer, NibabelIO):
        np.testing.assert_array_equal(nib.load(label_path).affine, nib.load(image_path).affine)


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_simpleitk_and_nibabel_agree_on_geometry_and_voxels(tmp_path, volume, orientation):
    path = tmp_path / "image.nii.gz"
    write_sitk(path, volume, ORIENTATIONS[orientation])
    sitk_array, sitk_geometry = SimpleITKIO().read_volume(path)
    nib_array, nib_geometry = NibabelIO().read_volume(path)
    np.testing.assert_array_equal(sitk_array, nib_array)
    assert sitk_geometry.matches(nib_geometry, tolerance=1e-6)


@pytest.mark.parametrize("ending", [".nrrd", ".mha", ".nii"])
def test_other_simpleitk_formats_round_trip(tmp_path, volume, ending):
    path = tmp_path / f"image{ending}"
    write_sitk(path, volume, ORIENTATIONS["LAS"])
    reader_writer = reader_writer_for(path)
    images, geometry = reader_writer.read_images([path])
    np.testing.assert_array_equal(images[0], volume)
    out = tmp_path / f"label{ending}"
    reader_writer.write_segmentation((volume > 0).astype(np.uint8), out, geometry)
    assert reader_writer.read_segmentation(out)[1] == geometry


@pytest.mark.skipif(not SHARED_MR.is_file(), reason="../shared/data absent")
def test_real_data_lps_mr_keeps_its_orientation(tmp_path):
    for reader_writer in (SimpleITKIO(), NibabelIO()):
        images, geometry = reader_writer.read_images([SHARED_MR])
        out = tmp_path / f"{reader_writer.name}.nii.gz"
        reader_writer.write_segmentation(
            (images[0] > images.mean()).astype(np.uint8), out, geometry
        )
        written, reference = sitk.ReadImage(str(out)), sitk.ReadImage(str(SHARED_MR))
        assert (
            sitk.DICOMOrientImageFilter.GetOrientationFromDirectionCosines(written.GetDirection())
            == "LPS"
        )
        assert written.GetOrigin() == pytest.approx(reference.GetOrigin(), abs=1e-4)
        assert written.GetDirection() == pytest.approx(reference.GetDirection(), abs=1e-6)


def test_two_dimensional_file_reports_dimension_two(tmp_path):
    path = tmp_path / "photo.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((6, 5), np.float32)), str(path))
    array, geometry = SimpleITKIO().read_volume(path)
    assert array.shape == (1, 6, 5)
    assert geometry.dimension == 2


def test_corrupt_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "broken_0000.nii.gz"
    path.write_bytes(b"this is not a nifti file")
    for reader_writer in (SimpleITKIO(), NibabelIO()):
        with pytest.raises(SamsegInputError, match=r"broken_0000\.nii\.gz"):
            reader_writer.read_images([path])


def test_channels_with_different_shapes_are_an_error(tmp_path, volume):
    write_sitk(tmp_path / "c_0000.nii.gz", volume, ORIENTATIONS["RAS"])
    write_sitk(tmp_path / "c_0001.nii.gz", volume[:, :, :4], ORIENTATIONS["RAS"])
    with pytest.raises(SamsegInputError, match=r"c_0001\.nii\.gz"):
        SimpleITKIO().read_images([tmp_path / "c_0000.nii.gz", tmp_path / "c_0001.nii.gz"])


def test_failed_write_leaves_no_file(tmp_path, volume):
    geometry = ImageGeometry((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), ORIENTATIONS["LPS"])
    target = tmp_path / "label.nii.gz"
    with pytest.raises(ValueError):
        SimpleITKIO().write_segmentation(volume[0], target, geometry)
    assert list(tmp_path.iterdir()) == []


def test_unknown_file_ending_lists_supported_ones(tmp_path):
    with pytest.raises(SamsegInputError, match=r"\.nii\.gz"):
        reader_writer_for(tmp_path / "image.tif")
