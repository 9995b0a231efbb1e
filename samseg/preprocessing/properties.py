"""Properties of one preprocessed case: everything needed to map it back to the raw image."""

from __future__ import annotations

from dataclasses import dataclass

from samseg.io import ImageGeometry
from samseg.io.orientation import IDENTITY, Reorientation
from samseg.preprocessing.cropping import CropBox
from samseg.preprocessing.provenance import FORMAT_VERSION, Provenance


@dataclass(frozen=True)
class CaseProperties:
    """How a raw case became its preprocessed arrays.

    Attributes:
        original_shape: raw (z, y, x) shape, voxels, as stored in the file.
        geometry: the raw image's spacing, origin and direction, as stored in the file.
        crop_box: the non-zero crop in (z, y, x) voxels of the reoriented image (the raw
            image reoriented to the plans' orientation; the raw image itself when
            ``reorientation`` is the identity).
        shape_after_crop: (z, y, x) shape of the crop, voxels (reoriented axis order).
        transpose_forward: permutation of (z, y, x) that puts the slice axis first.
        shape_after_resampling: (slice, row, column) shape of the stored arrays, voxels.
        spacing_after_resampling: (slice, row, column) spacing of the stored arrays, mm: the
            raw spacing where no resampling was needed, else the crop's extent divided by the
            new shape (within rounding of the plans' target spacing).
        class_slices: label value -> sorted indices of the stored slices that contain it, for
            every foreground value of the plans (empty when absent, and for unlabelled cases).
        provenance: the raw files and plans the case was made from.
        reorientation: the axis permutation and flips from the raw voxel order to the plans'
            orientation, applied before cropping (identity for cases stored like the
            training data and for plans without an orientation).
        format_version: version of the stored format.
    """

    original_shape: tuple[int, int, int]
    geometry: ImageGeometry
    crop_box: CropBox
    shape_after_crop: tuple[int, int, int]
    transpose_forward: tuple[int, int, int]
    shape_after_resampling: tuple[int, int, int]
    spacing_after_resampling: tuple[float, float, float]
    class_slices: dict[int, tuple[int, ...]]
    provenance: Provenance
    reorientation: Reorientation = IDENTITY
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict:
        """JSON-able form (label values become string keys)."""
        return {
            "format_version": self.format_version,
            "original_shape": list(self.original_shape),
            "geometry": self.geometry.to_json(),
            "crop_box": [list(r) for r in self.crop_box.ranges],
            "shape_after_crop": list(self.shape_after_crop),
            "transpose_forward": list(self.transpose_forward),
            "shape_after_resampling": list(self.shape_after_resampling),
            "spacing_after_resampling": list(self.spacing_after_resampling),
            "class_slices": {str(v): list(s) for v, s in self.class_slices.items()},
            "provenance": self.provenance.to_json(),
            "reorientation": self.reorientation.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> CaseProperties:
        """Inverse of :meth:`to_json`; raises KeyError, TypeError or ValueError when malformed.
        Properties written before ``reorientation`` existed get the identity."""
        reorientation = data.get("reorientation")
        return cls(
            original_shape=_ints(data["original_shape"]),
            geometry=ImageGeometry.from_json(data["geometry"]),
            crop_box=CropBox(tuple((int(a), int(b)) for a, b in data["crop_box"])),
            shape_after_crop=_ints(data["shape_after_crop"]),
            transpose_forward=_ints(data["transpose_forward"]),
            shape_after_resampling=_ints(data["shape_after_resampling"]),
            spacing_after_resampling=tuple(float(v) for v in data["spacing_after_resampling"]),
            class_slices={int(v): _ints(s) for v, s in data["class_slices"].items()},
            provenance=Provenance.from_json(data["provenance"]),
            reorientation=IDENTITY
            if reorientation is None
            else Reorientation.from_json(reorientation),
            format_version=int(data["format_version"]),
        )


def _ints(values: list) -> tuple[int, ...]:
    return tuple(int(v) for v in values)
