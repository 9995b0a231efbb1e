"""The files of an embedding cache: per case, compressed arrays and an index written last.

A cache folder (named by its :class:`~samseg.training.cache.key.CacheKey`) holds
``cache_key.json`` and, per case ``ID``::

    ID_embeddings.b2nd   (N, 256, G, G) float16 image embeddings of the case's N views
    ID_block{k}.b2nd     (N, side, side, channels) float16 output of encoder block k
    ID_labels.b2nd       (N, S, S) int16 label values of the views
    ID.json              the index: per view its slice, zoom and window, the label values in
                         it; the preprocessed data file's size and modification time

Arrays are chunked one view per chunk (blosc2, ZSTD level 1 with byte shuffle, as the
preprocessed data), written under temporary names and renamed; the index comes last, so a case
is complete exactly when its index exists and names the current data file: an interrupted
build resumes with the cases it had not finished.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import blosc2
import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import atomic_output, read_json, write_json
from samseg.preprocessing.storage import CasePaths
from samseg.training.cache.key import KEY_FILE, CacheKey

EMBEDDING_DTYPE = np.float16
LABEL_DTYPE = np.int16
_COMPRESSION = {"codec": blosc2.Codec.ZSTD, "clevel": 1, "filters": [blosc2.Filter.SHUFFLE]}


@dataclass(frozen=True)
class ViewRecord:
    """One cached network-input view of a slice.

    Attributes:
        slice_index: index along the stored slice axis.
        scale: extra zoom of this copy (1.0: the predictor's view).
        window: (row, column) corner of its window in the padded framed slice, or ``None``
            when the slice is resized to fill the input.
        label_values: label values present in the view (background included).
    """

    slice_index: int
    scale: float
    window: tuple[int, int] | None
    label_values: tuple[int, ...]

    def to_json(self) -> list:
        window = None if self.window is None else list(self.window)
        return [self.slice_index, self.scale, window, list(self.label_values)]

    @classmethod
    def from_json(cls, data: Sequence) -> ViewRecord:
        slice_index, scale, window, values = data
        window = None if window is None else (int(window[0]), int(window[1]))
        return cls(int(slice_index), float(scale), window, tuple(int(v) for v in values))


@dataclass(frozen=True)
class CachedCase:
    """One case of the cache, opened for lazy reading (one view decompressed per access).

    Attributes:
        views: what each of the N cached views is.
        embeddings: (N, 256, G, G) float16 blosc2 array.
        blocks: block index -> (N, side, side, channels) float16 blosc2 array.
        labels: (N, S, S) int16 blosc2 array of label values.
    """

    views: tuple[ViewRecord, ...]
    embeddings: blosc2.NDArray
    blocks: Mapping[int, blosc2.NDArray]
    labels: blosc2.NDArray


class EmbeddingCache:
    """A cache folder: its key, which cases are complete, reading and writing cases.

    Args:
        folder: the cache folder (``CacheKey.folder``).
        key: the key the folder belongs to.
        data_folder: the preprocessed data folder the cache was made from.
    """

    def __init__(self, folder: Path, key: CacheKey, data_folder: Path) -> None:
        self.folder = Path(folder)
        self.key = key
        self.data_folder = Path(data_folder)
        self.return_blocks = tuple(int(b) for b in key.settings["return_blocks"])

    def prepare(self) -> None:
        """Create the folder and write ``cache_key.json``, or check the one there.

        Raises:
            SamsegInputError: the folder holds the cache of another key.
        """
        path = self.folder / KEY_FILE
        if path.is_file():
            found = read_json(path)
            if found != self.key.to_json():
                raise SamsegInputError(
                    f"{path}: expected the embedding cache key {self.key.digest}, found "
                    "another key; remove the folder to rebuild the cache"
                )
            return
        write_json(self.key.to_json(), path)

    def is_complete(self, case_id: str) -> bool:
        """Whether ``case_id`` is cached from the current preprocessed data file."""
        index = self._index_path(case_id)
        if not index.is_file():
            return False
        try:
            return read_json(index)["source"] == self._source(case_id)
        except (SamsegInputError, KeyError, TypeError):
            return False

    def write_case(
        self,
        case_id: str,
        views: Sequence[ViewRecord],
        embeddings: np.ndarray,
        blocks: Mapping[int, np.ndarray],
        labels: np.ndarray,
    ) -> None:
        """Write one case's arrays, then its index (see the module docstring)."""
        self._index_path(case_id).unlink(missing_ok=True)
        with ExitStack() as renames:
            arrays = {self._array_path(case_id, "embeddings"): embeddings.astype(EMBEDDING_DTYPE)}
            for block, value in blocks.items():
                arrays[self._array_path(case_id, f"block{block}")] = value.astype(EMBEDDING_DTYPE)
            arrays[self._array_path(case_id, "labels")] = labels.astype(LABEL_DTYPE)
            for path, array in arrays.items():
                _write_array(array, renames.enter_context(atomic_output(path)))
        index = {
            "case_id": case_id,
            "source": self._source(case_id),
            "views": [view.to_json() for view in views],
        }
        write_json(index, self._index_path(case_id))

    def open_case(self, case_id: str) -> CachedCase:
        """Open a complete cached case.

        Raises:
            SamsegInputError: the case is not in the cache.
        """
        if not self.is_complete(case_id):
            raise SamsegInputError(
                f"{self.folder}: expected the cached embeddings of {case_id}, found none "
                "(or ones of an older preprocessed file)"
            )
        index = read_json(self._index_path(case_id))
        blocks = {b: self._array_path(case_id, f"block{b}") for b in self.return_blocks}
        return CachedCase(
            views=tuple(ViewRecord.from_json(view) for view in index["views"]),
            embeddings=_open_array(self._array_path(case_id, "embeddings")),
            blocks={b: _open_array(path) for b, path in blocks.items()},
            labels=_open_array(self._array_path(case_id, "labels")),
        )

    def _index_path(self, case_id: str) -> Path:
        return self.folder / f"{case_id}.json"

    def _array_path(self, case_id: str, part: str) -> Path:
        return self.folder / f"{case_id}_{part}.b2nd"

    def _source(self, case_id: str) -> dict:
        status = os.stat(CasePaths.of(self.data_folder, case_id).data)
        return {"size": status.st_size, "mtime_ns": status.st_mtime_ns}


def _write_array(array: np.ndarray, path: Path) -> None:
    blosc2.asarray(
        np.ascontiguousarray(array),
        urlpath=str(path),
        mode="w",
        chunks=(1, *array.shape[1:]),
        cparams={**_COMPRESSION, "nthreads": 1},
    )


def _open_array(path: Path) -> blosc2.NDArray:
    return blosc2.open(str(path), mode="r", mmap_mode="r", dparams={"nthreads": 1})
