"""Find and read TransUNet/SAMed-preprocessed Synapse files.

The format (TransUNet's ``data/Synapse``) has two folders:

- ``train_npz/caseXXXX_sliceYYY.npz``: one axial slice per file, arrays ``image`` and
  ``label`` of shape (H, W), slices numbered from 0;
- ``test_vol_h5/caseXXXX.npy.h5``: one volume per file, datasets ``image`` and ``label`` of
  shape (D, H, W).

Images are CT clipped to [-125, 275] HU and scaled to [0, 1]; labels use Synapse's 8 organ
ids. No spacing, origin or orientation is stored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from samseg.conversion.synapse import SYNAPSE_LABELS
from samseg.errors import SamsegInputError

TRAIN_FOLDER = "train_npz"
TEST_FOLDER = "test_vol_h5"
SLICE_NAME = re.compile(r"^case(\d+)_slice(\d+)\.npz$")
VOLUME_NAME = re.compile(r"^case(\d+)\.npy\.h5$")
MAX_LABEL = max(SYNAPSE_LABELS.values())


@dataclass(frozen=True)
class TransUNetCase:
    """One case: its number, its files (slice files in slice order, or one h5) and its split."""

    number: int
    files: tuple[Path, ...]
    test: bool


def find_transunet_cases(folder: str | os.PathLike) -> list[TransUNetCase]:
    """Training and test cases under ``folder`` (which holds ``train_npz``/``test_vol_h5``).

    Slices of a training case must be numbered 0, 1, ... without gaps; a gap is an error
    naming the case. A folder with neither subfolder, or with no case files in them, is an
    error naming the folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SamsegInputError(
            f"{folder}: expected a folder holding TransUNet's {TRAIN_FOLDER}/ and "
            f"{TEST_FOLDER}/, found none"
        )
    train_folder = _find_subfolder(folder, TRAIN_FOLDER)
    test_folder = _find_subfolder(folder, TEST_FOLDER)
    if train_folder is None and test_folder is None:
        found = sorted(p.name for p in folder.iterdir())
        raise SamsegInputError(
            f"{folder}: expected TransUNet folders {TRAIN_FOLDER}/ (caseXXXX_sliceYYY.npz) "
            f"and/or {TEST_FOLDER}/ (caseXXXX.npy.h5), found {found or 'an empty folder'}"
        )
    cases = []
    if train_folder is not None:
        cases.extend(_training_cases(train_folder))
    if test_folder is not None:
        volumes = {}
        for path in sorted(test_folder.iterdir()):
            match = VOLUME_NAME.match(path.name)
            if match is not None:
                volumes[int(match.group(1))] = path
        if not volumes:
            raise SamsegInputError(
                f"{test_folder}: expected files named caseXXXX.npy.h5, found none"
            )
        cases.extend(TransUNetCase(n, (p,), True) for n, p in sorted(volumes.items()))
    return cases


def _find_subfolder(folder: Path, name: str) -> Path | None:
    candidates = [folder] if folder.name == name else []
    candidates += sorted(p for p in folder.rglob(name) if p.is_dir())
    if len(candidates) > 1:
        raise SamsegInputError(
            f"{folder}: expected one {name}/ folder, found {len(candidates)}: "
            f"{', '.join(str(c) for c in candidates)}"
        )
    return candidates[0] if candidates else None


def _training_cases(folder: Path) -> list[TransUNetCase]:
    slices: dict[int, dict[int, Path]] = {}
    for path in folder.iterdir():
        match = SLICE_NAME.match(path.name)
        if match is not None:
            slices.setdefault(int(match.group(1)), {})[int(match.group(2))] = path
    if not slices:
        raise SamsegInputError(f"{folder}: expected files named caseXXXX_sliceYYY.npz, found none")
    cases = []
    for number, by_index in sorted(slices.items()):
        gaps = sorted(set(range(max(by_index) + 1)) - set(by_index))
        if gaps:
            shown = ", ".join(map(str, gaps[:10])) + (", ..." if len(gaps) > 10 else "")
            raise SamsegInputError(
                f"{folder}: expected slices 0..{max(by_index)} of case{number:04d} without gaps, "
                f"found {len(gaps)} missing: {shown}"
            )
        cases.append(TransUNetCase(number, tuple(by_index[i] for i in sorted(by_index)), False))
    return cases


def read_transunet_case(
    case: TransUNetCase, *, intensity_range: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The case's (z, y, x) float32 image and (z, y, x) uint8 labels, as stored.

    Training slices are stacked in slice order. With ``intensity_range``, intensities outside
    it (beyond 1e-3) are an error naming the file.
    """
    if case.test:
        image, labels = _read_h5(case.files[0])
        _check_arrays(case.files[0], image, labels, ndim=3, intensity_range=intensity_range)
        return image.astype(np.float32), labels.astype(np.uint8)
    images, label_slices = [], []
    for path in case.files:
        image, labels = _read_npz(path)
        _check_arrays(path, image, labels, ndim=2, intensity_range=intensity_range)
        if images and image.shape != images[0].shape:
            raise SamsegInputError(
                f"{path}: expected the slice shape {images[0].shape} of {case.files[0].name}, "
                f"found {image.shape}"
            )
        images.append(image.astype(np.float32))
        label_slices.append(labels.astype(np.uint8))
    return np.stack(images), np.stack(label_slices)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: np.asarray(data[key]) for key in data.files}
    except Exception as error:  # numpy raises OSError, ValueError, BadZipFile, EOFError, ...
        raise SamsegInputError(
            f"{path}: expected a readable .npz file with arrays 'image' and 'label', "
            f"found an error: {error}"
        ) from None
    return _image_and_label(path, arrays)


def _read_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with h5py.File(path, "r") as data:
            arrays = {
                key: np.asarray(data[key]) for key in data if isinstance(data[key], h5py.Dataset)
            }
    except Exception as error:  # h5py raises OSError, KeyError, ValueError, ...
        raise SamsegInputError(
            f"{path}: expected a readable HDF5 file with datasets 'image' and 'label', "
            f"found an error: {error}"
        ) from None
    return _image_and_label(path, arrays)


def _image_and_label(path: Path, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if "image" not in arrays or "label" not in arrays:
        raise SamsegInputError(
            f"{path}: expected arrays 'image' and 'label', found {sorted(arrays) or 'none'}"
        )
    return arrays["image"], arrays["label"]


def _check_arrays(
    path: Path,
    image: np.ndarray,
    labels: np.ndarray,
    *,
    ndim: int,
    intensity_range: tuple[float, float] | None,
) -> None:
    if image.ndim != ndim or image.shape != labels.shape:
        raise SamsegInputError(
            f"{path}: expected 'image' and 'label' of one {ndim}D shape, "
            f"found {image.shape} and {labels.shape}"
        )
    if not np.issubdtype(image.dtype, np.number) or not np.isfinite(image).all():
        raise SamsegInputError(f"{path}: expected finite numeric intensities, found otherwise")
    if intensity_range is not None and image.size:
        low, high = float(image.min()), float(image.max())
        if low < intensity_range[0] - 1e-3 or high > intensity_range[1] + 1e-3:
            raise SamsegInputError(
                f"{path}: expected TransUNet intensities in [{intensity_range[0]}, "
                f"{intensity_range[1]}], found [{low:.4g}, {high:.4g}]; keep them as they are "
                "with --keep_normalized"
            )
    if labels.size and (
        not np.array_equal(labels, np.round(labels)) or labels.min() < 0 or labels.max() > MAX_LABEL
    ):
        found = np.unique(labels)
        raise SamsegInputError(
            f"{path}: expected Synapse label values 0..{MAX_LABEL}, found {found[:12].tolist()}"
        )
