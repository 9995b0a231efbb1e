"""samseg_convert_transunet: stacking, HU round trip, spacing, normalized mode, bad input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np
import pytest
import SimpleITK as sitk

from samseg.conversion import convert_transunet, hu_to_normalized, normalized_to_hu
from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError

if TYPE_CHECKING:
    from conftest import FakeTransUNet


def read(path: Path) -> sitk.Image:
    assert path.is_file(), path
    return sitk.ReadImage(str(path))


def test_hu_round_trip_functions() -> None:
    hu = np.arange(-125, 276, dtype=np.float32)
    np.testing.assert_allclose(normalized_to_hu(hu_to_normalized(hu)), hu, atol=1e-4)
    np.testing.assert_array_equal(hu_to_normalized(np.array([-1000.0, 2000.0])), [0.0, 1.0])


def test_converts_to_hu_volumes_in_slice_order(transunet: FakeTransUNet, tmp_path: Path) -> None:
    report = convert_transunet(transunet.folder, tmp_path, progress=False)
    folder = tmp_path / "Dataset002_Synapse"
    assert (report.num_training, report.num_test) == (2, 1)
    for number, hu_expected in transunet.hu.items():
        split = "Ts" if number in transunet.test_cases else "Tr"
        image = read(folder / f"images{split}" / f"synapse_{number:04d}_0000.nii.gz")
        label = read(folder / f"labels{split}" / f"synapse_{number:04d}.nii.gz")
        hu = sitk.GetArrayFromImage(image)
        assert hu.shape == hu_expected.shape
        np.testing.assert_allclose(hu, hu_expected, atol=1e-3)
        np.testing.assert_array_equal(sitk.GetArrayFromImage(label), transunet.labels[number])
        assert image.GetSpacing() == label.GetSpacing() == (1.0, 1.0, 1.0)
        assert image.GetOrigin() == label.GetOrigin() == (0.0, 0.0, 0.0)
    description = DatasetDescription.load(folder / "dataset.json")
    assert description.channel_names == ("CT",)
    assert description.num_training == 2


def test_spacing_flag_and_warning(
    transunet: FakeTransUNet, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        convert_transunet(transunet.folder, tmp_path, spacing=(2.5, 0.75, 0.7), progress=False)
    assert "no voxel spacing" in caplog.text
    assert "(2.5, 0.75, 0.7)" in caplog.text
    image = read(tmp_path / "Dataset002_Synapse/imagesTs/synapse_0001_0000.nii.gz")
    label = read(tmp_path / "Dataset002_Synapse/labelsTr/synapse_0005.nii.gz")
    assert image.GetSpacing() == label.GetSpacing()
    assert image.GetSpacing() == pytest.approx((0.7, 0.75, 2.5))
    with pytest.raises(SamsegInputError, match="--spacing"):
        convert_transunet(transunet.folder, tmp_path / "o", spacing=(1.0, 0.0, 1.0))


def test_keep_normalized(transunet: FakeTransUNet, tmp_path: Path) -> None:
    convert_transunet(transunet.folder, tmp_path, keep_normalized=True, progress=False)
    folder = tmp_path / "Dataset002_Synapse"
    values = sitk.GetArrayFromImage(read(folder / "imagesTr/synapse_0006_0000.nii.gz"))
    np.testing.assert_allclose(values, hu_to_normalized(transunet.hu[6]), atol=1e-7)
    description = DatasetDescription.load(folder / "dataset.json")
    assert description.channel_names == ("normalized",)
    with pytest.raises(SamsegInputError, match="pass --overwrite"):
        convert_transunet(transunet.folder, tmp_path, progress=False)


def test_rerun_skips(transunet: FakeTransUNet, tmp_path: Path) -> None:
    convert_transunet(transunet.folder, tmp_path, progress=False)
    again = convert_transunet(transunet.folder, tmp_path, progress=False)
    assert again.written == ()
    assert len(again.skipped) == 3
    forced = convert_transunet(transunet.folder, tmp_path, overwrite=True, progress=False)
    assert len(forced.written) == 3


def test_gap_in_slices_names_the_case(transunet: FakeTransUNet, tmp_path: Path) -> None:
    (transunet.folder / "Synapse/train_npz/case0005_slice004.npz").unlink()
    with pytest.raises(SamsegInputError, match=r"case0005 without gaps, found 1 missing: 4"):
        convert_transunet(transunet.folder, tmp_path, progress=False)


def test_unreadable_files_are_named(transunet: FakeTransUNet, tmp_path: Path) -> None:
    broken = transunet.folder / "Synapse/train_npz/case0006_slice001.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(SamsegInputError, match=r"case0006_slice001\.npz: expected a readable"):
        convert_transunet(transunet.folder, tmp_path, progress=False)
    broken.unlink()
    (transunet.folder / "Synapse/train_npz").rename(transunet.folder / "elsewhere")
    volume = transunet.folder / "Synapse/test_vol_h5/case0001.npy.h5"
    volume.write_bytes(b"\x89HDF broken")
    with pytest.raises(SamsegInputError, match=r"case0001\.npy\.h5: expected a readable HDF5"):
        convert_transunet(transunet.folder, tmp_path, progress=False)


def test_missing_keys_and_bad_values(transunet: FakeTransUNet, tmp_path: Path) -> None:
    volume = transunet.folder / "Synapse/test_vol_h5/case0001.npy.h5"
    with h5py.File(volume, "w") as data:
        data["img"] = np.zeros((2, 3, 3))
    with pytest.raises(
        SamsegInputError, match=r"expected arrays 'image' and 'label', found \['img'\]"
    ):
        convert_transunet(transunet.folder, tmp_path, progress=False)
    with h5py.File(volume, "w") as data:
        data["image"] = np.full((2, 3, 3), 40.0)
        data["label"] = np.zeros((2, 3, 3))
    with pytest.raises(
        SamsegInputError, match=r"case0001\.npy\.h5: expected TransUNet intensities"
    ):
        convert_transunet(transunet.folder, tmp_path, progress=False)
    with h5py.File(volume, "w") as data:
        data["image"] = np.zeros((2, 3, 3))
        data["label"] = np.full((2, 3, 3), 12.0)
    with pytest.raises(SamsegInputError, match=r"expected Synapse label values 0\.\.8, found"):
        convert_transunet(transunet.folder, tmp_path, progress=False)


def test_folder_without_transunet_layout(tmp_path: Path) -> None:
    (tmp_path / "in" / "other").mkdir(parents=True)
    with pytest.raises(SamsegInputError, match=r"in: expected TransUNet folders train_npz/"):
        convert_transunet(tmp_path / "in", tmp_path / "out", progress=False)
    (tmp_path / "in" / "train_npz").mkdir()
    with pytest.raises(SamsegInputError, match=r"train_npz: expected files named caseXXXX"):
        convert_transunet(tmp_path / "in", tmp_path / "out", progress=False)
