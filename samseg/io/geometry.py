"""Physical geometry of an image, kept from reading to writing.

Arrays inside samseg are indexed (channel, z, y, x) where z is the slowest-varying axis of the
file (SimpleITK's array order). Spacing is given in that array order, in millimetres, as
nnU-Net does. Origin and direction are stored in SimpleITK's world convention (LPS, origin as
(x, y, z) in mm, direction as the row-major 3x3 matrix whose columns are the directions of
the x, y and z index axes), whatever library read the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ImageGeometry:
    """Where an image's voxels lie in the world.

    Attributes:
        spacing: voxel size in mm, array order (z, y, x).
        origin: world position of voxel (0, 0, 0) in mm, LPS, order (x, y, z).
        direction: row-major 3x3 direction cosines (9 floats), SimpleITK convention.
        dimension: 3 for volumes, 2 for images read from 2D files (their z has size 1).
        nifti_affine: the exact 4x4 RAS affine of a NIfTI file read with nibabel, kept so a
            file written back with nibabel carries the bit-identical qform/sform. ``None`` for
            files read by SimpleITK.
    """

    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...]
    dimension: int = 3
    nifti_affine: tuple[tuple[float, ...], ...] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if len(self.spacing) != 3 or len(self.origin) != 3 or len(self.direction) != 9:
            raise ValueError(
                "ImageGeometry expects 3 spacings, 3 origin values and 9 direction values, "
                f"found {len(self.spacing)}, {len(self.origin)} and {len(self.direction)}"
            )

    @property
    def direction_matrix(self) -> np.ndarray:
        """(3, 3) float64 direction matrix, columns = x, y, z index axes in LPS."""
        return np.asarray(self.direction, dtype=np.float64).reshape(3, 3)

    def matches(self, other: ImageGeometry, *, tolerance: float = 1e-4) -> bool:
        """Whether two geometries agree within ``tolerance`` (relative for spacing, mm else)."""
        spacing_ok = np.allclose(self.spacing, other.spacing, rtol=tolerance, atol=0)
        origin_ok = np.allclose(self.origin, other.origin, rtol=0, atol=tolerance * 10)
        direction_ok = np.allclose(self.direction, other.direction, rtol=0, atol=tolerance)
        return bool(spacing_ok and origin_ok and direction_ok)

    def to_json(self) -> dict:
        """JSON-able form, for properties files."""
        return {
            "spacing": list(self.spacing),
            "origin": list(self.origin),
            "direction": list(self.direction),
            "dimension": self.dimension,
            "nifti_affine": None
            if self.nifti_affine is None
            else [list(r) for r in self.nifti_affine],
        }

    @classmethod
    def from_json(cls, data: dict) -> ImageGeometry:
        """Inverse of :meth:`to_json`."""
        affine = data.get("nifti_affine")
        return cls(
            spacing=tuple(float(v) for v in data["spacing"]),
            origin=tuple(float(v) for v in data["origin"]),
            direction=tuple(float(v) for v in data["direction"]),
            dimension=int(data.get("dimension", 3)),
            nifti_affine=None
            if affine is None
            else tuple(tuple(float(v) for v in r) for r in affine),
        )
