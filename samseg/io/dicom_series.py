"""Read a folder holding one DICOM series as one volume, refusing series with broken geometry.

SimpleITK stacks the slices of a series on a uniform grid whatever their positions: with a slice
missing it spreads the others evenly (spacing = distance from first to last slice divided by
the slice count minus one), so slices near the gap land up to half a slice off, and it says so
only in an ITK warning on stderr. samseg checks the slice geometry first and refuses a series
whose slices do not share one orientation and size, or are not evenly spaced along the slice
normal; ITK's own warnings are silenced while reading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.errors import SamsegInputError

# A step between neighbouring slices may differ from the series' mean spacing by this fraction
# of it (positions in DICOM files are decimal strings, often rounded to 0.01 mm).
SPACING_TOLERANCE = 0.05
ORIENTATION_TOLERANCE = 1e-3

_POSITION, _ORIENTATION, _ROWS, _COLUMNS = "0020|0032", "0020|0037", "0028|0010", "0028|0011"


def read_dicom_series(folder: Path) -> sitk.Image:
    """Read the single DICOM series in ``folder`` after checking its slice geometry.

    Raises :class:`SamsegInputError` naming the folder (and the slice files concerned) when the
    folder holds no or several series, when slices differ in orientation or size, or when their
    positions along the slice normal are not evenly spaced (a missing or duplicated slice).
    """
    with _itk_warnings_silenced():
        series_ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
        if len(series_ids) != 1:
            raise SamsegInputError(
                f"{folder}: expected a folder holding exactly one DICOM series, "
                f"found {len(series_ids)} series"
            )
        files = [
            Path(name)
            for name in sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_ids[0])
        ]
        if len(files) > 1:
            _check_slice_geometry(folder, files)
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames([str(f) for f in files])
        try:
            return reader.Execute()
        except RuntimeError as error:
            reason = " ".join(str(error).split())
            raise SamsegInputError(
                f"{folder}: expected a readable DICOM series, found an error: {reason}"
            ) from None


@contextmanager
def _itk_warnings_silenced() -> Iterator[None]:
    """Turn off ITK's warning output for the block, restoring the previous setting after."""
    previous = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(previous)


def _check_slice_geometry(folder: Path, files: list[Path]) -> None:
    """Refuse slices (in the order they are stacked) that do not form a uniform volume."""
    tags = [_slice_tags(folder, path) for path in files]
    first_file, (_, first_orientation, first_size) = files[0], tags[0]
    for path, (_, orientation, size) in zip(files, tags, strict=True):
        if size != first_size:
            raise SamsegInputError(
                f"{folder}: expected every slice to have the {first_size[0]} rows and "
                f"{first_size[1]} columns of {first_file.name}, found {size[0]} rows and "
                f"{size[1]} columns in {path.name}"
            )
        if not np.allclose(orientation, first_orientation, atol=ORIENTATION_TOLERANCE, rtol=0):
            raise SamsegInputError(
                f"{folder}: expected every slice to have the orientation "
                f"{_format(first_orientation)} of {first_file.name}, found "
                f"{_format(orientation)} in {path.name}"
            )
    normal = np.cross(first_orientation[:3], first_orientation[3:])
    heights = np.array([float(np.dot(position, normal)) for position, _, _ in tags])
    steps = np.diff(heights)
    spacing = (heights[-1] - heights[0]) / (len(heights) - 1)
    worst = int(np.argmax(np.abs(steps - spacing)))
    if abs(spacing) < 1e-6 or abs(steps[worst] - spacing) > SPACING_TOLERANCE * abs(spacing):
        raise SamsegInputError(
            f"{folder}: expected evenly spaced slices (mean spacing {abs(spacing):.4g} mm "
            f"along the slice normal), found a step of {abs(steps[worst]):.4g} mm between "
            f"{files[worst].name} (position {heights[worst]:.4g} mm) and "
            f"{files[worst + 1].name} (position {heights[worst + 1]:.4g} mm): a missing, "
            "duplicated or misplaced slice"
        )


def _slice_tags(folder: Path, path: Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Image Position (Patient), Image Orientation (Patient) and (rows, columns) of a slice."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        raise SamsegInputError(
            f"{folder}: expected readable DICOM slices, found {path.name} unreadable"
        ) from None
    values = {}
    for tag, name, count in (
        (_POSITION, "Image Position (Patient)", 3),
        (_ORIENTATION, "Image Orientation (Patient)", 6),
        (_ROWS, "Rows", 1),
        (_COLUMNS, "Columns", 1),
    ):
        text = reader.GetMetaData(tag).strip() if reader.HasMetaDataKey(tag) else ""
        try:
            numbers = [float(v) for v in text.split("\\")]
        except ValueError:
            numbers = []
        if len(numbers) != count:
            raise SamsegInputError(
                f"{folder}: expected {name} ({tag.replace('|', ',')}) with {count} values in "
                f"every slice, found {text or 'none'!r} in {path.name}"
            )
        values[tag] = numbers
    size = (int(values[_ROWS][0]), int(values[_COLUMNS][0]))
    return np.array(values[_POSITION]), np.array(values[_ORIENTATION]), size


def _format(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
