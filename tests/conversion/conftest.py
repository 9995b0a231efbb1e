"""Tiny fake BTCV and TransUNet input folders, written by the tests themselves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

from samseg.conversion import hu_to_normalized
from samseg.io import ImageGeometry, SimpleITKIO

BTCV_SHAPE = (4, 6, 7)
TRANSUNET_SLICE_SHAPE = (6, 5)


@dataclass(frozen=True)
class FakeBTCV:
    """A fake BTCV folder and what it holds.

    Attributes:
        folder: the folder to convert (``RawData/Training/{img,label}`` and
            ``RawData/Testing/img`` inside).
        images: case number -> (z, y, x) int16 HU image.
        labels: case number -> (z, y, x) uint8 BTCV labels (every value 0..13 occurs).
        geometry: geometry of every image.
    """

    folder: Path
    images: dict[int, np.ndarray]
    labels: dict[int, np.ndarray]
    geometry: ImageGeometry


@dataclass(frozen=True)
class FakeTransUNet:
    """A fake TransUNet ``data`` folder and what it holds.

    Attributes:
        folder: the folder to convert (``Synapse/{train_npz,test_vol_h5}`` inside).
        hu: case number -> (z, y, x) float32 integer HU in [-125, 275] before normalization.
        labels: case number -> (z, y, x) Synapse labels 0..8.
        test_cases: numbers of the cases stored as h5 volumes.
    """

    folder: Path
    hu: dict[int, np.ndarray]
    labels: dict[int, np.ndarray]
    test_cases: frozenset[int]


@pytest.fixture
def btcv(tmp_path: Path) -> FakeBTCV:
    """Cases 1 (test split), 5 and 6 (training), and an unlabeled Testing scan (61).

    Case 6's label has an origin off by 1e-5 mm, as some BTCV labels have.
    """
    geometry = ImageGeometry(
        spacing=(3.0, 0.8, 0.8),
        origin=(-120.5, 88.25, -300.0),
        direction=(-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0),
    )
    shifted = ImageGeometry(
        spacing=geometry.spacing, origin=(-120.50001, 88.25, -300.0), direction=geometry.direction
    )
    root = tmp_path / "btcv" / "RawData"
    io = SimpleITKIO()
    images, labels = {}, {}
    for number in (1, 5, 6, 61):
        rng = np.random.default_rng(number)
        images[number] = rng.integers(-1024, 1500, size=BTCV_SHAPE).astype(np.int16)
        split = "Testing" if number > 40 else "Training"
        io.write_image(images[number], root / split / "img" / f"img{number:04d}.nii.gz", geometry)
        if number > 40:
            continue
        labels[number] = (np.arange(np.prod(BTCV_SHAPE)) % 14).reshape(BTCV_SHAPE).astype(np.uint8)
        labels[number][0, 0, 0] = number
        io.write_image(
            labels[number],
            root / "Training" / "label" / f"label{number:04d}.nii.gz",
            shifted if number == 6 else geometry,
        )
    return FakeBTCV(tmp_path / "btcv", images, labels, geometry)


@pytest.fixture
def transunet(tmp_path: Path) -> FakeTransUNet:
    """Training cases 5 (11 slices) and 6 (3 slices) as npz slices, case 1 as an h5 volume."""
    root = tmp_path / "data" / "Synapse"
    (root / "train_npz").mkdir(parents=True)
    (root / "test_vol_h5").mkdir()
    hu, labels = {}, {}
    for number, depth in ((5, 11), (6, 3), (1, 4)):
        rng = np.random.default_rng(number)
        hu[number] = rng.integers(-125, 276, size=(depth, *TRANSUNET_SLICE_SHAPE)).astype(
            np.float32
        )
        hu[number][:, 0, 0] = np.arange(depth) * 10 - 100
        labels[number] = rng.integers(0, 9, size=hu[number].shape).astype(np.float32)
        image = hu_to_normalized(hu[number])
        if number == 1:
            with h5py.File(root / "test_vol_h5" / "case0001.npy.h5", "w") as data:
                data["image"], data["label"] = image, labels[number]
            continue
        for index in range(depth):
            np.savez(
                root / "train_npz" / f"case{number:04d}_slice{index:03d}.npz",
                image=image[index],
                label=labels[number][index],
            )
    return FakeTransUNet(tmp_path / "data", hu, labels, frozenset({1}))
