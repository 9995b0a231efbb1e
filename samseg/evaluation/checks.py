"""Input checks of one case: matching geometry, and label values the dataset knows."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry


def check_same_geometry(
    reference_file: Path,
    reference_shape: tuple[int, ...],
    reference_geometry: ImageGeometry,
    prediction_file: Path,
    prediction_shape: tuple[int, ...],
    prediction_geometry: ImageGeometry,
) -> None:
    """Raise unless a prediction has its reference's shape, spacing, origin and direction.

    Shapes are (z, y, x); tolerances are :meth:`ImageGeometry.matches`'s. The error names both
    files and every property that differs.
    """
    if reference_shape == prediction_shape and reference_geometry.matches(prediction_geometry):
        return
    found = {
        "shape": (reference_shape, prediction_shape),
        "spacing": (reference_geometry.spacing, prediction_geometry.spacing),
        "origin": (reference_geometry.origin, prediction_geometry.origin),
        "direction": (reference_geometry.direction, prediction_geometry.direction),
    }
    differences = [
        f"{name} {_rounded(expected)} vs {_rounded(actual)}"
        for name, (expected, actual) in found.items()
        if np.shape(expected) != np.shape(actual)
        or not np.allclose(expected, actual, rtol=1e-6, atol=1e-6)
    ]
    raise SamsegInputError(
        f"{prediction_file}: expected the geometry of reference {reference_file}, found a "
        f"different {', '.join(differences)} (reference vs prediction)"
    )


def check_label_values(
    path: Path, segmentation: np.ndarray, allowed: Collection[int] | None
) -> None:
    """Raise unless ``segmentation`` (integers, any shape) holds only values in ``allowed``.

    With ``allowed`` ``None`` (labels given by hand) only negative values are an error.
    """
    expected = (
        "non-negative label values"
        if allowed is None
        else (f"label values among the dataset's {sorted(allowed)}")
    )
    if segmentation.size and np.issubdtype(segmentation.dtype, np.signedinteger):
        lowest = int(segmentation.min())
        if lowest < 0:
            raise SamsegInputError(f"{path}: expected {expected}, found the value {lowest}")
    if allowed is None or segmentation.size == 0:
        return
    top = max(allowed)
    above = segmentation > top
    if above.any():
        unknown = np.unique(segmentation[above])
        raise SamsegInputError(f"{path}: expected {expected}, found {unknown[:10].tolist()}")
    present = np.flatnonzero(np.bincount(segmentation.ravel()))
    unknown = [int(v) for v in present if int(v) not in allowed]
    if unknown:
        raise SamsegInputError(f"{path}: expected {expected}, found {unknown}")


def _rounded(values: object) -> object:
    if isinstance(values, tuple) and values and isinstance(values[0], float):
        return tuple(round(v, 6) for v in values)
    return values
