"""SimpleITK reader/writer: NIfTI, NRRD, MetaImage and DICOM series folders."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.errors import SamsegInputError
from samseg.io.base import ImageReaderWriter
from samseg.io.dicom_series import read_dicom_series
from samseg.io.geometry import ImageGeometry
from samseg.io.nifti_integrity import check_nifti_voxel_data, nonfinite_voxels_error

_NIFTI_ENDINGS = (".nii", ".nii.gz")


class SimpleITKIO(ImageReaderWriter):
    """Reads any file SimpleITK reads, and a folder holding one DICOM series as one image.

    NIfTI files are checked first for truncation and NaN/inf voxels, which SimpleITK would
    silently read as 0 (see :mod:`samseg.io.nifti_integrity`); other formats are checked for
    NaN/inf on the array read.
    """

    name = "SimpleITKIO"
    supported_file_endings = (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".gipl")

    def read_volume(self, path: Path) -> tuple[np.ndarray, ImageGeometry]:
        path = Path(path)
        image = read_dicom_series(path) if path.is_dir() else _read_file(path)
        if image.GetNumberOfComponentsPerPixel() != 1:
            raise SamsegInputError(
                f"{path}: expected a single-component image (one file per channel, nnU-Net's "
                f"CASE_XXXX layout), found {image.GetNumberOfComponentsPerPixel()} components"
            )
        dimension = image.GetDimension()
        if dimension not in (2, 3):
            raise SamsegInputError(f"{path}: expected a 2D or 3D image, found {dimension}D")
        array = sitk.GetArrayFromImage(image)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise nonfinite_voxels_error(path, int(array.size - np.isfinite(array).sum()))
        if dimension == 2:
            direction_2d = image.GetDirection()
            geometry = ImageGeometry(
                spacing=(1.0, *(float(s) for s in reversed(image.GetSpacing()))),
                origin=(*(float(o) for o in image.GetOrigin()), 0.0),
                direction=(
                    direction_2d[0],
                    direction_2d[1],
                    0.0,
                    direction_2d[2],
                    direction_2d[3],
                    0.0,
                    0.0,
                    0.0,
                    1.0,
                ),
                dimension=2,
            )
            return array[None], geometry
        geometry = ImageGeometry(
            spacing=tuple(float(s) for s in reversed(image.GetSpacing())),
            origin=tuple(float(o) for o in image.GetOrigin()),
            direction=tuple(float(d) for d in image.GetDirection()),
        )
        return array, geometry

    def write_volume(self, array: np.ndarray, path: Path, geometry: ImageGeometry) -> None:
        if geometry.dimension == 2:
            image = sitk.GetImageFromArray(array[0])
            image.SetSpacing(tuple(reversed(geometry.spacing[1:])))
            image.SetOrigin(geometry.origin[:2])
            direction = geometry.direction
            image.SetDirection((direction[0], direction[1], direction[3], direction[4]))
        else:
            image = sitk.GetImageFromArray(array)
            image.SetSpacing(tuple(reversed(geometry.spacing)))
            image.SetOrigin(geometry.origin)
            image.SetDirection(geometry.direction)
        sitk.WriteImage(image, str(path), useCompression=True)


def _read_file(path: Path) -> sitk.Image:
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected an image file, found no such file")
    if path.name.lower().endswith(_NIFTI_ENDINGS):
        check_nifti_voxel_data(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as error:
        reason = _itk_reason(error)
        raise SamsegInputError(
            f"{path}: expected a readable image, found a file SimpleITK cannot read ({reason})"
        ) from None


def _itk_reason(error: RuntimeError) -> str:
    """The informative line of an ITK read error, without ITK's stale errno ("Reason: ...")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[-1].startswith("Reason:"):
        lines.pop()
    if not lines:
        return "unknown error"
    return re.sub(r"^ITK ERROR: \w+\(0x[0-9a-f]+\): ", "", lines[-1])
