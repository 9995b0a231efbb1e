"""Orientation of an image's voxel axes, and exact reorientation between two orientations.

Axis codes are three letters, one per index axis of the file in (i, j, k) order, which is the
(x, y, z) order of samseg's (z, y, x) arrays reversed. Each letter names the patient direction
the index increases toward: L or R, P or A, S or I, as SimpleITK's DICOMOrientImageFilter and
nibabel's ``aff2axcodes`` write them. The identity direction is ``LPS``; a NIfTI file stored in
RAS voxel order is ``RAS``. Oblique directions get the codes of the nearest axes: the
assignment of index axes to patient axes that maximizes the summed absolute cosines.

A :class:`Reorientation` is a pure permutation and flip of the array axes with the matching
geometry: no voxel value is interpolated, so applying it and undoing it returns the very array.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io.geometry import ImageGeometry

#: Per LPS world axis: the letter of its positive and of its negative direction.
AXIS_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))


def axis_codes(direction: Sequence[float]) -> str:
    """Axis codes of a row-major 3x3 LPS direction (columns: x, y, z index axes), e.g. ``LPS``.

    Oblique directions map to the nearest axes (see the module docstring); exact ties go to
    the first permutation in lexicographic order.
    """
    matrix = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    best = max(
        itertools.permutations(range(3)),
        key=lambda world: sum(abs(matrix[world[i], i]) for i in range(3)),
    )
    return "".join(
        AXIS_LETTERS[world][0 if matrix[world, index] >= 0 else 1]
        for index, world in enumerate(best)
    )


def check_axis_codes(codes: object, source: str | Path) -> str:
    """``codes`` if it is a valid axis code string, else a SamsegInputError naming ``source``."""
    valid = (
        isinstance(codes, str)
        and len(codes) == 3
        and sorted(_world_axis(letter) for letter in codes) == [0, 1, 2]
    )
    if not valid:
        raise SamsegInputError(
            f"{source}: expected orientation axis codes such as 'LPS' or 'RAS' (one of L/R, "
            f"one of P/A, one of S/I), found {codes!r}"
        )
    return codes


def majority_orientation(codes: Sequence[str]) -> str:
    """The most common axis codes; ties go to the one seen first."""
    if not codes:
        raise ValueError("majority_orientation: expected at least one orientation, found none")
    return Counter(codes).most_common(1)[0][0]


def _world_axis(letter: str) -> int:
    """LPS world axis (0, 1, 2) of a letter, -1 for anything else."""
    return next((axis for axis, pair in enumerate(AXIS_LETTERS) if letter in pair), -1)


@dataclass(frozen=True)
class Reorientation:
    """An exact map of (..., z, y, x) arrays from one orientation to another.

    Attributes:
        axes: output array axis ``a`` is input array axis ``axes[a]`` (array order z, y, x).
        flips: per output array axis, whether it is reversed after the permutation.
    """

    axes: tuple[int, int, int] = (0, 1, 2)
    flips: tuple[bool, bool, bool] = (False, False, False)

    @classmethod
    def between(cls, source: str, target: str) -> Reorientation:
        """The reorientation that turns an array stored with axis codes ``source`` into the
        same voxels stored with axis codes ``target``."""
        axes, flips = [], []
        for output_axis in range(3):
            letter = target[2 - output_axis]
            index = next(i for i, s in enumerate(source) if _world_axis(s) == _world_axis(letter))
            axes.append(2 - index)
            flips.append(source[index] != letter)
        return cls(tuple(axes), tuple(flips))

    @property
    def is_identity(self) -> bool:
        return self.axes == (0, 1, 2) and not any(self.flips)

    def inverse(self) -> Reorientation:
        """The reorientation that undoes this one."""
        axes = tuple(self.axes.index(a) for a in range(3))
        flips = tuple(self.flips[self.axes.index(a)] for a in range(3))
        return Reorientation(axes, flips)

    def shape(self, shape: Sequence[int]) -> tuple[int, int, int]:
        """The (z, y, x) shape after reorientation of an array of (z, y, x) ``shape``."""
        return tuple(int(shape[a]) for a in self.axes)

    def apply(self, array: np.ndarray) -> np.ndarray:
        """Reorient the last three axes of (..., z, y, x) ``array``.

        Returns ``array`` itself for the identity, else a new C-contiguous array.
        """
        if self.is_identity:
            return array
        leading = array.ndim - 3
        moved = array.transpose(*range(leading), *(leading + a for a in self.axes))
        flipped = [leading + a for a in range(3) if self.flips[a]]
        return np.ascontiguousarray(np.flip(moved, flipped) if flipped else moved)

    def undo(self, array: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`apply`: (..., z, y, x) in the orientation before reorientation."""
        return self.inverse().apply(array)

    def apply_to_geometry(self, geometry: ImageGeometry, shape: Sequence[int]) -> ImageGeometry:
        """The geometry of the reoriented array, for an input of (z, y, x) ``shape``.

        Every voxel keeps its world position: index axes are permuted with their spacing and
        direction; a flipped axis has its direction negated and the origin moved to the world
        position of its last voxel. ``nifti_affine`` is dropped (it described the input).
        """
        matrix = geometry.direction_matrix
        origin = np.asarray(geometry.origin, dtype=np.float64)
        columns = [np.zeros(3)] * 3
        for output_axis, input_axis in enumerate(self.axes):
            column = matrix[:, 2 - input_axis]
            if self.flips[output_axis]:
                origin = origin + column * (geometry.spacing[input_axis] * (shape[input_axis] - 1))
                column = -column
            columns[2 - output_axis] = column
        return ImageGeometry(
            spacing=tuple(geometry.spacing[a] for a in self.axes),
            origin=tuple(float(v) for v in origin),
            direction=tuple(float(v) for v in np.stack(columns, axis=1).ravel()),
            dimension=geometry.dimension,
        )

    def to_json(self) -> dict:
        return {"axes": list(self.axes), "flips": list(self.flips)}

    @classmethod
    def from_json(cls, data: dict) -> Reorientation:
        """Inverse of :meth:`to_json`; raises ValueError for anything but a permutation."""
        axes = tuple(int(a) for a in data["axes"])
        flips = tuple(bool(f) for f in data["flips"])
        if sorted(axes) != [0, 1, 2] or len(flips) != 3:
            raise ValueError(f"expected a permutation of (0, 1, 2) and 3 flips, found {data}")
        return cls(axes, flips)


#: The reorientation that changes nothing.
IDENTITY = Reorientation()
