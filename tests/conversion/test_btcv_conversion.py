"""samseg_convert_btcv: mapping, split, geometry, missing cases, reruns, bad input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.conversion import SYNAPSE_LABELS, convert_btcv, map_btcv_labels
from samseg.dataset import RawDataset
from samseg.errors import SamsegInputError

if TYPE_CHECKING:
    from conftest import FakeBTCV
from samseg.io import SimpleITKIO


def read(path: Path) -> sitk.Image:
    assert path.is_file(), path
    return sitk.ReadImage(str(path))


def test_converts_with_map_split_and_image_geometry(btcv: FakeBTCV, tmp_path: Path) -> None:
    report = convert_btcv(btcv.folder, tmp_path / "raw", progress=False)
    folder = tmp_path / "raw" / "Dataset002_Synapse"
    assert report.dataset_folder == folder
    assert sorted(report.written) == ["synapse_0001", "synapse_0005", "synapse_0006"]
    assert (report.num_training, report.num_test) == (2, 1)
    assert sorted(p.name for p in (folder / "imagesTr").iterdir()) == [
        "synapse_0005_0000.nii.gz",
        "synapse_0006_0000.nii.gz",
    ]
    assert [p.name for p in (folder / "imagesTs").iterdir()] == ["synapse_0001_0000.nii.gz"]
    assert [p.name for p in (folder / "labelsTs").iterdir()] == ["synapse_0001.nii.gz"]
    for number, split in ((1, "Ts"), (5, "Tr"), (6, "Tr")):
        image = read(folder / f"images{split}" / f"synapse_{number:04d}_0000.nii.gz")
        label = read(folder / f"labels{split}" / f"synapse_{number:04d}.nii.gz")
        np.testing.assert_array_equal(sitk.GetArrayFromImage(image), btcv.images[number])
        assert sitk.GetArrayFromImage(image).dtype == np.int16
        np.testing.assert_array_equal(
            sitk.GetArrayFromImage(label), map_btcv_labels(btcv.labels[number])
        )
        assert label.GetSize() == image.GetSize()
        assert label.GetSpacing() == image.GetSpacing()
        assert label.GetOrigin() == image.GetOrigin()
        assert label.GetDirection() == image.GetDirection()
        assert image.GetOrigin() == btcv.geometry.origin


def test_labels_5_9_13_become_background_and_11_pancreas(btcv: FakeBTCV, tmp_path: Path) -> None:
    convert_btcv(btcv.folder, tmp_path, progress=False)
    source = btcv.labels[5]
    label = sitk.GetArrayFromImage(
        read(tmp_path / "Dataset002_Synapse/labelsTr/synapse_0005.nii.gz")
    )
    for value in (5, 9, 10, 12, 13):
        assert (label[source == value] == 0).all()
    assert (label[source == 11] == 8).all()
    assert (label[source == 6] == 5).all()
    assert set(np.unique(label)) == set(range(9))


def test_dataset_json_is_valid(btcv: FakeBTCV, roots: dict[str, Path]) -> None:
    convert_btcv(btcv.folder, progress=False)
    dataset = RawDataset.find("Synapse")
    assert dataset.description.channel_names == ("CT",)
    assert dataset.description.labels.names == SYNAPSE_LABELS
    assert dataset.description.num_training == 2
    assert [c.identifier for c in dataset.training_cases] == ["synapse_0005", "synapse_0006"]


def test_missing_cases_warned_and_named(
    btcv: FakeBTCV, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (btcv.folder / "RawData/Training/label/label0006.nii.gz").unlink()
    with caplog.at_level(logging.WARNING):
        report = convert_btcv(btcv.folder, tmp_path, progress=False)
    assert len(report.missing) == 28
    assert "case 6 (img0006.nii.gz without label0006.nii.gz)" in report.missing
    assert "case 2" in report.missing
    assert "28 of 30 Synapse cases missing" in caplog.text
    assert "case 40" in caplog.text
    assert report.num_training == 1


def test_rerun_skips_and_overwrite_rewrites(btcv: FakeBTCV, tmp_path: Path) -> None:
    convert_btcv(btcv.folder, tmp_path, progress=False)
    output = tmp_path / "Dataset002_Synapse/imagesTr/synapse_0005_0000.nii.gz"
    before = output.stat().st_mtime_ns
    again = convert_btcv(btcv.folder, tmp_path, progress=False)
    assert again.written == ()
    assert sorted(again.skipped) == ["synapse_0001", "synapse_0005", "synapse_0006"]
    assert output.stat().st_mtime_ns == before
    forced = convert_btcv(btcv.folder, tmp_path, overwrite=True, progress=False)
    assert len(forced.written) == 3
    assert output.stat().st_mtime_ns != before


def test_shape_mismatch_names_both_files_and_leaves_no_partial_file(
    btcv: FakeBTCV, tmp_path: Path
) -> None:
    label = btcv.folder / "RawData/Training/label/label0006.nii.gz"
    SimpleITKIO().write_image(np.zeros((4, 6, 8), np.uint8), label, btcv.geometry)
    with pytest.raises(SamsegInputError) as error:
        convert_btcv(btcv.folder, tmp_path, progress=False)
    assert "label0006.nii.gz" in str(error.value)
    assert "img0006.nii.gz" in str(error.value)
    assert not any(".partial." in p.name for p in tmp_path.rglob("*"))
    assert not (tmp_path / "Dataset002_Synapse/dataset.json").exists()


def test_folder_without_btcv_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    with pytest.raises(SamsegInputError, match=r"in: expected BTCV files img0001\.nii\.gz.*notes"):
        convert_btcv(tmp_path / "in", tmp_path / "out", progress=False)
    with pytest.raises(SamsegInputError, match="found none"):
        convert_btcv(tmp_path / "absent", tmp_path / "out", progress=False)


def test_duplicate_case_is_an_error(btcv: FakeBTCV, tmp_path: Path) -> None:
    copy = btcv.folder / "copy" / "img0005.nii.gz"
    copy.parent.mkdir()
    copy.write_bytes((btcv.folder / "RawData/Training/img/img0005.nii.gz").read_bytes())
    with pytest.raises(SamsegInputError, match="second one for case 5"):
        convert_btcv(btcv.folder, tmp_path / "out", progress=False)


def test_dataset_id_and_name(btcv: FakeBTCV, tmp_path: Path) -> None:
    report = convert_btcv(btcv.folder, tmp_path, dataset_id=12, name="BTCV8", progress=False)
    assert report.dataset_folder == tmp_path / "Dataset012_BTCV8"
    with pytest.raises(SamsegInputError, match="dataset name"):
        convert_btcv(btcv.folder, tmp_path, name="a/b", progress=False)
