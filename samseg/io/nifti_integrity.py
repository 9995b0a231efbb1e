"""Check that a NIfTI file holds all the voxel data its header declares, and no NaN or inf.

SimpleITK reads a truncated ``.nii.gz`` or ``.nii`` without complaint (the missing voxels come
back as 0), and turns NaN and infinite voxels into 0. Both would go on as plausible images, so
the SimpleITK reader runs :func:`check_nifti_voxel_data` first; the nibabel reader runs its
size check, so that both readers word a truncated file alike (nibabel keeps NaN, and its arrays
are checked after reading).

Cost: for integer data in a ``.nii.gz`` the gzip trailer's size field (uncompressed size modulo
2**32) is compared with the size the header implies, which takes microseconds; only when they
differ (a truncated file, or a multi-member gzip such as bgzip writes) is the stream inflated to
its end. Floating-point data are always inflated once, to count NaN and infinite voxels.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np

from samseg.errors import SamsegInputError

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_BYTES = 1 << 22
_HEADER_CLASSES = {348: nib.Nifti1Header, 540: nib.Nifti2Header}


def nonfinite_voxels_error(path: Path, count: int) -> SamsegInputError:
    """The error for a file with ``count`` NaN or infinite voxels (same for every reader)."""
    return SamsegInputError(
        f"{path}: expected finite voxel values, found {count} NaN or infinite voxels"
    )


def check_nifti_voxel_data(path: Path, *, count_nonfinite: bool = True) -> None:
    """Raise :class:`SamsegInputError` if ``path`` is truncated or holds NaN/inf voxels.

    ``count_nonfinite=False`` checks the size only (for readers that keep NaN, such as
    nibabel, whose arrays are checked after reading). A file whose header cannot be parsed is
    left to the reader, which reports it.
    """
    with open(path, "rb") as file:
        compressed = file.read(2) == _GZIP_MAGIC
    header = _read_header(path, compressed)
    if header is None:
        return
    try:
        dtype = header.get_data_dtype()
        shape = tuple(int(n) for n in header.get_data_shape())
        offset = int(header.get_data_offset())
    except Exception:  # an unknown datatype code or a malformed dim field: the reader says so
        return
    data_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    expected = offset + data_bytes
    floating = count_nonfinite and dtype.kind == "f"
    if compressed and not floating and _gzip_trailer_size(path) == expected % 2**32:
        return
    counter = _NonfiniteCounter(dtype, offset, data_bytes) if floating else None
    if compressed:
        found = _inflated_size(path, expected, counter)
    else:
        found = os.path.getsize(path)
        if counter is not None and found >= expected:
            count = data_bytes // dtype.itemsize
            counter.feed_voxels(np.fromfile(path, dtype=dtype, count=count, offset=offset))
    if found < expected:
        raise SamsegInputError(
            f"{path}: expected {expected} bytes (header and {dtype.name} voxels of shape "
            f"{shape}), found {found} bytes: the file is truncated"
        )
    if counter is not None and counter.count:
        raise nonfinite_voxels_error(path, counter.count)


def _read_header(path: Path, compressed: bool) -> nib.Nifti1Header | None:
    """The NIfTI-1 or NIfTI-2 header of ``path``, or ``None`` when it is not one.

    A file that starts like a NIfTI header but ends within it is reported as truncated.
    """
    try:
        if compressed:
            with open(path, "rb") as file:
                block = zlib.decompressobj(wbits=31).decompress(file.read(4096), 540)
        else:
            with open(path, "rb") as file:
                block = file.read(540)
    except zlib.error:
        return None
    for byteorder in ("little", "big"):
        size = int.from_bytes(block[:4], byteorder)
        if size in _HEADER_CLASSES and len(block) < size:
            raise SamsegInputError(
                f"{path}: expected a {size}-byte NIfTI header, found {len(block)} bytes: "
                "the file is truncated"
            )
        if size in _HEADER_CLASSES:
            try:
                return _HEADER_CLASSES[size](block[:size], check=False)
            except Exception:  # nibabel raises several types for malformed headers
                return None
    return None


def _gzip_trailer_size(path: Path) -> int:
    """The ISIZE field of the last gzip member (uncompressed size modulo 2**32)."""
    with open(path, "rb") as file:
        file.seek(-4, os.SEEK_END)
        return int.from_bytes(file.read(4), "little")


def _inflated_size(path: Path, expected: int, sink: Callable[[memoryview], None] | None) -> int:
    """Inflate every gzip member of ``path``; return the bytes obtained before the stream ended.

    Stops early (returning at least ``expected``) at trailing non-gzip bytes once ``expected``
    bytes have been produced, as readers ignore them. A damaged stream is an error.
    """
    total = 0
    inflater = zlib.decompressobj(wbits=31)
    member_open = False
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK_BYTES):
            pending = chunk
            while pending:
                if not member_open and not pending.startswith(_GZIP_MAGIC[: len(pending)]):
                    if total >= expected:
                        return total
                    _raise_damaged(path, "bytes that are not gzip data after the stream")
                try:
                    produced = inflater.decompress(pending, _CHUNK_BYTES)
                except zlib.error as error:
                    _raise_damaged(path, str(error))
                member_open = True
                if sink is not None:
                    sink(memoryview(produced))
                total += len(produced)
                if inflater.eof:
                    pending = inflater.unused_data
                    inflater = zlib.decompressobj(wbits=31)
                    member_open = False
                else:
                    pending = inflater.unconsumed_tail
    if member_open:
        tail = inflater.flush()
        if sink is not None:
            sink(memoryview(tail))
        total += len(tail)
    return total


def _raise_damaged(path: Path, reason: str) -> None:
    raise SamsegInputError(f"{path}: expected an intact gzip stream, found damage ({reason})")


class _NonfiniteCounter:
    """Counts NaN and infinite values in the voxel region of a byte stream fed in pieces."""

    def __init__(self, dtype: np.dtype, offset: int, data_bytes: int) -> None:
        self.dtype = dtype
        self.count = 0
        self._skip = offset
        self._remaining = data_bytes
        self._carry = b""

    def __call__(self, piece: memoryview) -> None:
        if self._skip:
            skipped = min(self._skip, len(piece))
            piece = piece[skipped:]
            self._skip -= skipped
        piece = piece[: self._remaining]
        self._remaining -= len(piece)
        if not len(piece):
            return
        data = self._carry + bytes(piece) if self._carry else piece
        usable = len(data) - len(data) % self.dtype.itemsize
        self.feed_voxels(np.frombuffer(data[:usable], dtype=self.dtype))
        self._carry = bytes(data[usable:])

    def feed_voxels(self, values: np.ndarray) -> None:
        """Count the NaN and infinite entries of an array of voxel values."""
        self.count += int(values.size - np.count_nonzero(np.isfinite(values)))
