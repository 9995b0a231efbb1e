"""nibabel reader/writer for NIfTI files, keeping the file's exact affine."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from samseg.errors import SamsegInputError
from samseg.io.base import ImageReaderWriter
from samseg.io.geometry import ImageGeometry
from samseg.io.nifti_integrity import check_nifti_voxel_data, nonfinite_voxels_error

_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0])


class NibabelIO(ImageReaderWriter):
    """NIfTI through nibabel. The voxel order of the file is kept (no reorientation).

    nibabel indexes data (i, j, k) = (x, y, z); samseg arrays are (z, y, x), so data are
    transposed. The RAS affine is converted to SimpleITK's LPS origin and direction, and kept
    verbatim so that a label written back carries the image's bit-identical affine.
    """

    name = "NibabelIO"
    supported_file_endings = (".nii.gz", ".nii")

    def read_volume(self, path: Path) -> tuple[np.ndarray, ImageGeometry]:
        path = Path(path)
        if not path.is_file():
            raise SamsegInputError(f"{path}: expected a NIfTI file, found no such file")
        check_nifti_voxel_data(path, count_nonfinite=False)
        try:
            image = nib.load(str(path))
            data = np.asanyarray(image.dataobj)
        except Exception as error:  # nibabel raises many types for corrupt files
            reason = " ".join(str(error).split())
            raise SamsegInputError(
                f"{path}: expected a readable NIfTI file, found an error: {reason}"
            ) from None
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            raise nonfinite_voxels_error(path, int(data.size - np.isfinite(data).sum()))
        dimension = 2 if data.ndim == 2 else 3
        if data.ndim == 2:
            data = data[:, :, None]
        if data.ndim != 3:
            raise SamsegInputError(f"{path}: expected a 2D or 3D image, found shape {data.shape}")
        affine = np.asarray(image.affine, dtype=np.float64)
        matrix_lps = _RAS_TO_LPS @ affine[:3, :3]
        spacing_xyz = np.linalg.norm(matrix_lps, axis=0)
        direction = matrix_lps / spacing_xyz
        geometry = ImageGeometry(
            spacing=tuple(float(s) for s in spacing_xyz[::-1]),
            origin=tuple(float(o) for o in _RAS_TO_LPS @ affine[:3, 3]),
            direction=tuple(float(d) for d in direction.ravel()),
            dimension=dimension,
            nifti_affine=tuple(tuple(float(v) for v in row) for row in affine),
        )
        return np.ascontiguousarray(data.transpose(2, 1, 0)), geometry

    def write_volume(self, array: np.ndarray, path: Path, geometry: ImageGeometry) -> None:
        if geometry.nifti_affine is not None:
            affine = np.asarray(geometry.nifti_affine, dtype=np.float64)
        else:
            affine = np.eye(4)
            affine[:3, :3] = _RAS_TO_LPS @ (geometry.direction_matrix * geometry.spacing[::-1])
            affine[:3, 3] = _RAS_TO_LPS @ np.asarray(geometry.origin)
        image = nib.Nifti1Image(np.ascontiguousarray(array.transpose(2, 1, 0)), affine)
        image.set_qform(affine, code=1)
        image.set_sform(affine, code=1)
        nib.save(image, str(path))
