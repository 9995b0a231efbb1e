"""Slices of a volume turned for display in radiological convention, from its direction cosines.

A (z, y, x) array read by SimpleITK has a direction matrix whose columns give, in LPS world
coordinates, the directions of the x, y and z index axes. A :class:`DisplayView` transposes and
flips the array so that its slices are shown as radiologists look at them:

- axial: patient's right on the image's left, anterior up;
- coronal: patient's right on the image's left, superior up;
- sagittal: anterior on the image's left, superior up.

The plane is the one of the file's own slices (its z index axis): an axial CT is shown in
axial slices, a sagittal MR in sagittal ones. An oblique axis counts as the world axis it is
closest to. The same volume stored with another axis order or flips (LPS, RAS, ...) gives the
same view array.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Per plane, the canonical (S, P, L) axes that become (slice, row, column) and whether the row
# axis is reversed so that superior is up.
_PLANES = {
    "axial": ((0, 1, 2), False),
    "coronal": ((1, 0, 2), True),
    "sagittal": ((2, 0, 1), True),
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
    signed = np.asarray(direction, dtype=np.float64).reshape(3, 3)
    matrix = np.abs(signed)
    # world[a]: the LPS world axis (0 = x/L, 1 = y/P, 2 = z/S) closest to array axis a, which
    # is the index axis 2 - a; the assignment is a permutation maximising the alignment.
    world = max(
        itertools.permutations(range(3)),
        key=lambda w: np.prod([matrix[w[a], 2 - a] for a in range(3)]),
    )
    backwards = [signed[world[a], 2 - a] < 0 for a in range(3)]
    # Canonical axis c runs along world axis 2 - c: (S, P, L), each index increasing that way.
    canonical = [world.index(2 - c) for c in range(3)]
    plane = {2: "axial", 1: "coronal", 0: "sagittal"}[world[0]]
    order, reverse_rows = _PLANES[plane]
    axes = tuple(canonical[c] for c in order)
    flips = [backwards[a] for a in axes]
    flips[1] ^= reverse_rows
    return DisplayView(
        plane=plane,
        axes=axes,
        flips=tuple(flips),
        spacing=tuple(float(spacing[a]) for a in axes),
    )


def stored_view(spacing: Sequence[float]) -> DisplayView:
    """The array as stored, slices along z: for 2D images, which have no patient axes."""
    return DisplayView("stored", (0, 1, 2), (False, False, False), tuple(map(float, spacing)))
