"""Shared fixtures: tiny synthetic raw datasets in nnU-Net v2 layout, and isolated roots."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The real images of ../shared/data; tests that read them have ``real_data`` in their name
and skip only when it is absent."""

REAL_DATA_MARK = "real_data"


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say how many real-data tests ran and how many were skipped (data absent)."""
    seen: dict[str, set[str]] = {"skipped": set(), "all": set()}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if REAL_DATA_MARK in nodeid.split("::")[-1]:
                seen["all"].add(nodeid)
                if outcome == "skipped":
                    seen["skipped"].add(nodeid)
    if not seen["all"]:
        return
    skipped = len(seen["skipped"])
    terminalreporter.write_line(
        f"real-data tests: {len(seen['all']) - skipped} ran, {skipped} skipped "
        f"({SHARED_DATA} {'found' if SHARED_DATA.is_dir() else 'absent'})"
    )


def write_volume(
    path: Path,
    array: np.ndarray,
    spacing_zyx=(3.0, 1.0, 1.0),
    origin=(-20.0, 15.0, 5.0),
    direction=(1, 0, 0, 0, 1, 0, 0, 0, 1),
) -> None:
    """Write a (z, y, x) array with SimpleITK."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing_zyx)))
    image.SetOrigin(origin)
    image.SetDirection(tuple(float(d) for d in direction))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))


DICOM_SERIES_UID = "1.2.826.0.1.3680043.2.1125.1"
DICOM_SLICE_SPACING = 3.0


def write_dicom_series(
    folder: Path,
    volume: np.ndarray,
    heights: list[float] | None = None,
    orientation: dict[int, str] | None = None,
) -> Path:
    """Write a (z, y, x) int16 volume as one CT slice file per z, origin (10, -20, 30).

    ``heights`` replaces the slices' z positions (default: 30 mm + 3 mm steps);
    ``orientation`` gives some slices another Image Orientation (Patient) string.
    """
    image = sitk.GetImageFromArray(volume)
    image.SetSpacing((0.9, 0.9, DICOM_SLICE_SPACING))
    image.SetOrigin((10.0, -20.0, 30.0))
    folder.mkdir(parents=True)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for index in range(volume.shape[0]):
        slice_image = image[:, :, index]
        position = list(image.TransformIndexToPhysicalPoint((0, 0, index)))
        if heights is not None:
            position[2] = heights[index]
        tags = {
            "0020|000e": DICOM_SERIES_UID,
            "0020|0032": "\\".join(map(str, position)),
            "0020|0013": str(index + 1),
            "0020|0037": (orientation or {}).get(index, "1\\0\\0\\0\\1\\0"),
            "0008|0060": "CT",
        }
        for tag, value in tags.items():
            slice_image.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{index:03d}.dcm"))
        writer.Execute(slice_image)
    return folder


def synthetic_case(seed: int, shape=(8, 24, 28)) -> tuple[np.ndarray, np.ndarray]:
    """A CT-like (z, y, x) int16 volume with two box-shaped organs, and its uint8 label."""
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 10, shape).astype(np.int16)
    label = np.zeros(shape, np.uint8)
    z0, y0, x0 = rng.integers(1, 3), rng.integers(2, 6), rng.integers(2, 6)
    label[z0 : z0 + 4, y0 : y0 + 8, x0 : x0 + 8] = 1
    label[z0 + 1 : z0 + 5, y0 + 10 : y0 + 15, x0 + 12 : x0 + 18] = 2
    image[label == 1] += 100
    image[label == 2] -= 60
    return image, label


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Run a test on one torch thread, restoring the previous count afterwards.

    Tiny networks run fastest on one thread: with two threads on two cores shared with other
    jobs, every OpenMP region can wait for a descheduled thread (up to 100x slower here).
    Folders of such tests use it for every test (their conftest.py); single modules with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def roots(tmp_path, monkeypatch) -> dict[str, Path]:
    """Fresh SAMSEG_* roots (nnU-Net's variables unset)."""
    paths = {name: tmp_path / name for name in ("raw", "preprocessed", "results")}
    for name, path in paths.items():
        path.mkdir()
        monkeypatch.setenv(f"SAMSEG_{name}", str(path))
        monkeypatch.delenv(f"nnUNet_{name}", raising=False)
    return paths


@pytest.fixture
def make_raw_dataset(roots) -> Callable[..., Path]:
    """Factory: write ``DatasetXXX_Name`` with ``num_cases`` synthetic training cases."""

    def make(
        dataset_id: int = 7, name: str = "Toy", num_cases: int = 3, spacing_zyx=(3.0, 1.0, 1.0)
    ) -> Path:
        folder = roots["raw"] / f"Dataset{dataset_id:03d}_{name}"
        for index in range(num_cases):
            image, label = synthetic_case(index)
            write_volume(folder / "imagesTr" / f"case{index:02d}_0000.nii.gz", image, spacing_zyx)
            write_volume(folder / "labelsTr" / f"case{index:02d}.nii.gz", label, spacing_zyx)
        description = {
            "channel_names": {"0": "CT"},
            "labels": {"background": 0, "organ_a": 1, "organ_b": 2},
            "numTraining": num_cases,
            "file_ending": ".nii.gz",
            "name": name,
        }
        (folder / "dataset.json").write_text(json.dumps(description))
        return folder

    return make
