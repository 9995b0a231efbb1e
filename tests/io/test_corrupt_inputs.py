"""Truncated, damaged and non-finite NIfTI files are errors naming the file, in both readers."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.io import NibabelIO, SimpleITKIO, nifti_integrity

READERS = [SimpleITKIO(), NibabelIO()]


def write(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    sitk.WriteImage(sitk.GetImageFromArray(array), str(path), useCompression=compress)
    return path


def cut_in_half(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def labels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 3, (12, 20, 24)).astype(np.int16)


@pytest.mark.parametrize("ending", [".nii.gz", ".nii"])
@pytest.mark.parametrize("reader_writer", READERS, ids=lambda r: r.name)
def test_truncated_nifti_is_an_error_naming_the_file(tmp_path, labels, reader_writer, ending):
    path = cut_in_half(write(tmp_path / f"cut_0000{ending}", labels))
    with pytest.raises(SamsegInputError, match=rf"cut_0000{ending}: expected \d+ bytes.*truncated"):
        reader_writer.read_segmentation(path)


def test_truncated_float_nifti_is_reported_as_truncated(tmp_path, labels):
    path = cut_in_half(write(tmp_path / "cut_0000.nii.gz", labels.astype(np.float32)))
    with pytest.raises(SamsegInputError, match="truncated"):
        SimpleITKIO().read_images([path])


@pytest.mark.parametrize("ending", [".nii.gz", ".nii", ".nrrd", ".mha"])
@pytest.mark.parametrize("reader_writer", READERS, ids=lambda r: r.name)
def test_nan_and_inf_are_an_error_counting_them(tmp_path, labels, reader_writer, ending):
    if ending not in reader_writer.supported_file_endings:
        pytest.skip(f"{reader_writer.name} does not read {ending}")
    volume = labels.astype(np.float32)
    volume[1, 2, 3] = np.nan
    volume[4, 5, 6] = -np.inf
    path = write(tmp_path / f"nan_0000{ending}", volume)
    message = rf"nan_0000{ending}: expected finite voxel values, found 2 NaN or infinite"
    with pytest.raises(SamsegInputError, match=message):
        reader_writer.read_images([path])
    with pytest.raises(SamsegInputError, match=message):
        reader_writer.read_segmentation(path)


def test_nan_count_is_exact_when_the_stream_arrives_in_odd_pieces(tmp_path, monkeypatch):
    volume = np.zeros((3, 5, 7), np.float64)
    volume.flat[[0, 17, 50, 104]] = [np.nan, np.inf, np.nan, -np.inf]
    path = write(tmp_path / "nan.nii.gz", volume)
    monkeypatch.setattr(nifti_integrity, "_CHUNK_BYTES", 13)
    with pytest.raises(SamsegInputError, match="found 4 NaN"):
        nifti_integrity.check_nifti_voxel_data(path)


@pytest.mark.parametrize("reader_writer", READERS, ids=lambda r: r.name)
def test_multi_member_gzip_reads_completely(tmp_path, labels, reader_writer):
    # bgzip-style files: several gzip members, the last one empty (its size field is 0).
    raw = write(tmp_path / "plain.nii", labels, compress=False).read_bytes()
    path = tmp_path / "multi.nii.gz"
    path.write_bytes(gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]) + gzip.compress(b""))
    array, _ = reader_writer.read_volume(path)
    np.testing.assert_array_equal(array, labels)


def test_gzip_with_trailing_zero_padding_reads(tmp_path, labels):
    path = write(tmp_path / "padded.nii.gz", labels.astype(np.float32))
    path.write_bytes(path.read_bytes() + bytes(64))
    np.testing.assert_array_equal(SimpleITKIO().read_volume(path)[0], labels)


def test_damaged_float_gzip_stream_is_an_error(tmp_path, labels):
    path = write(tmp_path / "flip.nii.gz", labels.astype(np.float32))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SamsegInputError, match=r"flip\.nii\.gz: expected an intact gzip stream"):
        SimpleITKIO().read_volume(path)


@pytest.mark.parametrize("ending", [".nii.gz", ".nii"])
def test_file_cut_inside_its_header_is_reported_as_truncated(tmp_path, labels, ending):
    path = write(tmp_path / f"stub_0000{ending}", labels)
    if ending == ".nii.gz":
        raw = gzip.decompress(path.read_bytes())
        path.write_bytes(gzip.compress(raw[:200]))
    else:
        path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(SamsegInputError, match=r"348-byte NIfTI header, found 200 bytes"):
        SimpleITKIO().read_volume(path)


@pytest.mark.parametrize("ending", [".nrrd", ".mha"])
def test_truncated_nrrd_and_metaimage_are_errors_naming_the_file(tmp_path, labels, ending):
    path = cut_in_half(write(tmp_path / f"cut_0000{ending}", labels))
    message = rf"cut_0000{ending}: expected a readable image"
    with pytest.raises(SamsegInputError, match=message) as raised:
        SimpleITKIO().read_volume(path)
    assert "No such file" not in str(raised.value)
