"""Slices of a volume turned for display in radiological convention, from its direction cosines.

A (z, y, x) array read by SimpleITK has a direction matrix whose columns give, in LPS world
coordinates, the directions of the x, y and z index axes. A :class:`DisplayView` transposes and
flips the array so that its slices are shown as radiologists look at them:

- axial: patient's right on the image's left, anterior up;
- coronal: patient's right on the image's left, superior up;
- sagittal: anterior on the image's left, superior up.

The plane is the one of the file's own slices (its z index axis): an axial CT is shown in
axial slices, a sagittal MR in sagittal ones. Axis codes and the turn come from
``samseg.io.orientation`` (an oblique axis counts as the nearest world axis). The same volume
stored with another axis order or flips (LPS, RAS, ...) gives the same view array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from samseg.io.orientation import Reorientation, axis_codes

# Per plane: the axis codes (x, y, z index axes) of the displayed (column, row, slice) axes:
# columns toward the patient's left (or posterior), rows toward inferior (or posterior), slices
# toward superior, posterior or left.
_VIEW_CODES = {"axial": "LPS", "coronal": "LIP", "sagittal": "PIL"}
# The plane whose slices are stacked along the file's z axis, by that axis' letter.
_PLANE_OF_SLICE_LETTER = {
    "S": "axial", "I": "axial", "P": "coronal", "A": "coronal", "L": "sagittal", "R": "sagittal"
}
# Letters at the (left, right, top, bottom) edges of a slice of each plane.
EDGE_LETTERS = {
    "axial": ("R", "L", "A", "P"),
    "coronal": ("R", "L", "S", "I"),
    "sagittal": ("A", "P", "S", "I"),
}


@dataclass(frozen=True)
class DisplayView:
    """How to turn a (z, y, x) array into (slice, row, column) for display.

    Attributes:
        plane: ``"axial"``, ``"coronal"`` or ``"sagittal"``.
        axes: the array axis that becomes each view axis (slice, row, column).
        flips: whether each view axis runs against its array axis.
        spacing: voxel size in mm of the view axes (slice, row, column).
    """

    plane: str
    axes: tuple[int, int, int]
    flips: tuple[bool, bool, bool]
    spacing: tuple[float, float, float]

    def apply(self, array: np.ndarray) -> np.ndarray:
        """The (slice, row, column) view of a (z, y, x) array (a view, no copy)."""
        turned = np.transpose(array, self.axes)
        return turned[tuple(slice(None, None, -1) if f else slice(None) for f in self.flips)]

    def file_slice(self, index: int, num_slices: int) -> int:
        """The index along the array axis of view slice ``index`` (of ``num_slices``)."""
        return num_slices - 1 - index if self.flips[0] else index


def display_view(direction: Sequence[float], spacing: Sequence[float]) -> DisplayView:
    """The radiological view of a (z, y, x) array with these direction cosines.

    Args:
        direction: row-major 3x3 direction matrix (9 floats), SimpleITK convention (LPS).
        spacing: (z, y, x) voxel size in mm.
    """
    codes = axis_codes(direction)
    plane = _PLANE_OF_SLICE_LETTER[codes[2]]
    turn = Reorientation.between(codes, _VIEW_CODES[plane])
    return DisplayView(
        plane=plane,
        axes=turn.axes,
        flips=turn.flips,
        spacing=tuple(float(spacing[a]) for a in turn.axes),
    )


def stored_view(spacing: Sequence[float]) -> DisplayView:
    """The array as stored, slices along z: for 2D images, which have no patient axes."""
    return DisplayView("stored", (0, 1, 2), (False, False, False), tuple(map(float, spacing)))
