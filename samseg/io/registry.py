"""Choose the reader/writer for a file, by name (dataset.json) or by file ending."""

from __future__ import annotations

import os
from pathlib import Path

from samseg.errors import SamsegInputError
from samseg.io.base import ImageReaderWriter
from samseg.io.natural_image import NaturalImage2DIO
from samseg.io.nibabel_io import NibabelIO
from samseg.io.simpleitk_io import SimpleITKIO

READER_WRITERS: dict[str, type[ImageReaderWriter]] = {
    SimpleITKIO.name: SimpleITKIO,
    NibabelIO.name: NibabelIO,
    NaturalImage2DIO.name: NaturalImage2DIO,
}


def reader_writer_by_name(name: str) -> ImageReaderWriter:
    """The reader/writer called ``name`` (dataset.json's ``overwrite_image_reader_writer``)."""
    try:
        return READER_WRITERS[name]()
    except KeyError:
        raise SamsegInputError(
            f"unknown image reader/writer {name!r}; expected one of {sorted(READER_WRITERS)}"
        ) from None


def reader_writer_for(path_or_ending: str | os.PathLike) -> ImageReaderWriter:
    """The default reader/writer for a file ending (``.nii.gz``) or a path.

    A folder is read as a DICOM series by SimpleITK. SimpleITK is preferred for NIfTI, as in
    nnU-Net; pass ``NibabelIO`` by name to use nibabel instead.
    """
    text = os.fspath(path_or_ending)
    if Path(text).is_dir():
        return SimpleITKIO()
    lowered = text.lower()
    for reader_writer in READER_WRITERS.values():
        if lowered.endswith(reader_writer.supported_file_endings):
            return reader_writer()
    endings = sorted({e for rw in READER_WRITERS.values() for e in rw.supported_file_endings})
    raise SamsegInputError(
        f"{text}: expected an image file ending in one of {endings} or a DICOM series folder, "
        "found neither"
    )
