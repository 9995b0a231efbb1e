"""Preprocessed cases on disk: blosc2 arrays read lazily, plus a JSON properties file.

A case ``ID`` in a data folder is three files::

    ID.b2nd       data, (channel, slice, row, column) float16 in [0, 255]
    ID_seg.b2nd   labels, (1, slice, row, column) int8 (int16 when a value exceeds 127)
    ID.json       CaseProperties

Each array is chunked one slice per chunk (the whole plane of one channel), so reading a slice
and its context neighbours decompresses only those slices. Compression is ZSTD level 1 with
byte shuffle; see documentation/preprocessing.md for the measurements behind these choices.

Both arrays are written under temporary names ending in ``.b2nd`` and renamed together once
both are complete; the properties file is written (atomically too) after them, so a case is
complete exactly when it has one. Re-writing a case removes its old properties file first.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import blosc2
import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import atomic_output, read_json, write_json
from samseg.io.atomic import is_stale_partial
from samseg.preprocessing.properties import CaseProperties

DATA_SUFFIX = ".b2nd"
LABEL_SUFFIX = "_seg.b2nd"
PROPERTIES_SUFFIX = ".json"
DATA_DTYPE = np.float16
_COMPRESSION = {"codec": blosc2.Codec.ZSTD, "clevel": 1, "filters": [blosc2.Filter.SHUFFLE]}


@dataclass(frozen=True)
class CasePaths:
    """The three files of one preprocessed case."""

    data: Path
    label: Path
    properties: Path

    @classmethod
    def of(cls, folder: str | os.PathLike, identifier: str) -> CasePaths:
        folder = Path(folder)
        return cls(
            data=folder / f"{identifier}{DATA_SUFFIX}",
            label=folder / f"{identifier}{LABEL_SUFFIX}",
            properties=folder / f"{identifier}{PROPERTIES_SUFFIX}",
        )


@dataclass(frozen=True)
class StoredCase:
    """A preprocessed case opened for lazy reading.

    Attributes:
        data: (channel, slice, row, column) float16 blosc2 array; ``data[:, i - 1 : i + 2]``
            decompresses just those slices.
        label: (1, slice, row, column) int8/int16 blosc2 array, ``None`` for unlabelled cases.
        properties: the case's properties.
    """

    data: blosc2.NDArray
    label: blosc2.NDArray | None
    properties: CaseProperties


def save_case(
    folder: str | os.PathLike,
    identifier: str,
    data: np.ndarray,
    label: np.ndarray | None,
    properties: CaseProperties,
    *,
    threads: int = 1,
) -> None:
    """Write one case atomically, properties last.

    Args:
        folder: the data folder (created if missing).
        identifier: case identifier (file name stem).
        data: (channel, slice, row, column) values in [0, 255]; stored as float16.
        label: (1, slice, row, column) integer labels, or ``None``.
        properties: written last; marks the case complete.
        threads: blosc2 compression threads.
    """
    paths = CasePaths.of(folder, identifier)
    paths.properties.unlink(missing_ok=True)
    with ExitStack() as renames:
        data_file = renames.enter_context(atomic_output(paths.data))
        _write_array(data.astype(DATA_DTYPE, copy=False), data_file, threads)
        if label is None:
            paths.label.unlink(missing_ok=True)
        else:
            label_file = renames.enter_context(atomic_output(paths.label))
            _write_array(label.astype(label_dtype(label), copy=False), label_file, threads)
    write_json(properties.to_json(), paths.properties)


def label_dtype(label: np.ndarray) -> type:
    """int8 when every value fits, else int16 (as nnU-Net stores segmentations)."""
    return np.int8 if label.size == 0 or int(label.max()) <= 127 else np.int16


def load_properties(folder: str | os.PathLike, identifier: str) -> CaseProperties:
    """The properties of a stored case; a missing or malformed file is a SamsegInputError."""
    path = CasePaths.of(folder, identifier).properties
    data = read_json(path)
    try:
        return CaseProperties.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SamsegInputError(
            f"{path}: expected samseg case properties, found a malformed file ({error!r})"
        ) from None


def load_case(folder: str | os.PathLike, identifier: str) -> StoredCase:
    """Open a stored case for lazy reading (memory-mapped, nothing decompressed yet)."""
    paths = CasePaths.of(folder, identifier)
    properties = load_properties(folder, identifier)
    data = _open_array(paths.data)
    label = _open_array(paths.label) if paths.label.is_file() else None
    return StoredCase(data=data, label=label, properties=properties)


def stored_identifiers(folder: str | os.PathLike) -> list[str]:
    """Sorted identifiers of the complete cases in ``folder`` (properties and data files)."""
    names = _visible_names(folder)
    return sorted(
        name[: -len(PROPERTIES_SUFFIX)]
        for name in names
        if name.endswith(PROPERTIES_SUFFIX)
        and f"{name[: -len(PROPERTIES_SUFFIX)]}{DATA_SUFFIX}" in names
    )


def written_identifiers(folder: str | os.PathLike) -> list[str]:
    """Sorted identifiers of every case with a data file in ``folder``, complete or not."""
    return sorted(
        name[: -len(DATA_SUFFIX)]
        for name in _visible_names(folder)
        if name.endswith(DATA_SUFFIX) and not name.endswith(LABEL_SUFFIX)
    )


def remove_case(folder: str | os.PathLike, identifier: str) -> None:
    """Delete a case's files, properties first."""
    paths = CasePaths.of(folder, identifier)
    for path in (paths.properties, paths.data, paths.label):
        path.unlink(missing_ok=True)


def remove_partial_files(folder: str | os.PathLike) -> int:
    """Delete temporary files an interrupted run left in ``folder``; return how many.

    Only temporaries whose writing process has ended are removed: another run preprocessing
    into the same folder keeps its files (see ``samseg.io.atomic.is_stale_partial``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    partial = [p for p in folder.iterdir() if is_stale_partial(p)]
    for path in partial:
        path.unlink(missing_ok=True)
    return len(partial)


def _visible_names(folder: str | os.PathLike) -> set[str]:
    """File names in ``folder`` that are not hidden (temporary files are), none if missing."""
    folder = Path(folder)
    if not folder.is_dir():
        return set()
    return {name for name in os.listdir(folder) if not name.startswith(".")}


def _write_array(array: np.ndarray, path: Path, threads: int) -> None:
    """Compress (channel, slice, row, column) ``array`` to ``path``, one chunk per slice."""
    blosc2.asarray(
        np.ascontiguousarray(array),
        urlpath=str(path),
        mode="w",
        chunks=(1, 1, *array.shape[2:]),
        cparams={**_COMPRESSION, "nthreads": threads},
    )


def _open_array(path: Path) -> blosc2.NDArray:
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected a preprocessed array, found no such file")
    return blosc2.open(str(path), mode="r", mmap_mode="r", dparams={"nthreads": 1})
