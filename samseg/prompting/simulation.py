"""Prompts simulated from a reference mask: SAM's box and point prompts as a user would give them.

Everything here works on one 2D binary mask of the network-input frame (rows x columns,
``mask[y, x]``) and returns prompts in that frame's pixels: a point is (x, y) = (column, row)
of a pixel, a box is (x0, y0, x1, y1), the inclusive pixel indices of its corners. SAM's
prompt encoder adds half a pixel itself, so pixel indices are what it expects.

- :func:`tight_box`: the smallest box holding the mask (MedSAM's box prompt).
- :func:`farthest_interior_point`: the pixel farthest from the mask's border (the standard
  first click of interactive segmentation; the image edge counts as border; ties go to the
  middle of the tied pixels).
- :func:`random_interior_points`: N distinct mask pixels drawn uniformly (seeded).
- :func:`corrective_click`: the next click of the interactive-segmentation protocol: at the
  pixel farthest from the border of the largest error region, positive in a missed region,
  negative in a false-positive one.
- :func:`tight_boxes`: :func:`tight_box` of a batch of masks, in torch (training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage


@dataclass(frozen=True)
class Click:
    """One simulated click.

    Attributes:
        x, y: column and row of the clicked pixel.
        positive: True for a foreground click (label 1), False for a background one (label 0).
    """

    x: int
    y: int
    positive: bool


def _check_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"{name} must be a 2D (rows, columns) array, found shape {mask.shape}")
    return mask.astype(bool, copy=False)


def tight_box(mask: np.ndarray) -> np.ndarray | None:
    """The box (x0, y0, x1, y1) of the mask's pixels (inclusive indices), float64 (4,);
    ``None`` for an empty mask."""
    mask = _check_mask(mask)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(mask.any(axis=0))
    return np.array([columns[0], rows[0], columns[-1], rows[-1]], dtype=np.float64)


def _farthest_pixel(region: np.ndarray) -> tuple[int, int]:
    """(row, column) of the pixel of ``region`` farthest from its border (the array edge
    counts as border). Ties (a ridge of equally deep pixels, as in a rectangle) go to the
    tied pixel nearest the ties' mean, then to the first in row-major order."""
    distance = ndimage.distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
    rows, columns = np.nonzero(distance == distance.max())
    offsets = (rows - rows.mean()) ** 2 + (columns - columns.mean()) ** 2
    nearest = int(np.argmin(offsets))
    return int(rows[nearest]), int(columns[nearest])


def farthest_interior_point(mask: np.ndarray) -> np.ndarray | None:
    """(x, y) float64 (2,) of the mask pixel farthest from the mask's border; ``None`` for an
    empty mask."""
    mask = _check_mask(mask)
    if not mask.any():
        return None
    row, column = _farthest_pixel(mask)
    return np.array([column, row], dtype=np.float64)


def random_interior_points(mask: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` mask pixels drawn uniformly, (count, 2) float64 (x, y); distinct while the mask
    has enough pixels, else drawn with replacement. Empty mask: (0, 2).

    Raises:
        ValueError: ``count`` < 1.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, found {count}")
    rows, columns = np.nonzero(_check_mask(mask))
    if rows.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    chosen = rng.choice(rows.size, size=count, replace=rows.size < count)
    return np.stack([columns[chosen], rows[chosen]], axis=1).astype(np.float64)


def corrective_click(prediction: np.ndarray, target: np.ndarray) -> Click | None:
    """The next click of the standard interactive-segmentation protocol.

    The error regions are the connected components (4-connectivity) of the false negatives
    (``target & ~prediction``) and of the false positives (``prediction & ~target``); the
    click goes to the pixel farthest from the border of the largest one (ties: false
    negatives first, then the first component found), positive in a false-negative region.

    Args:
        prediction: (H, W) current binary prediction.
        target: (H, W) binary reference.

    Returns:
        The click, or ``None`` when the prediction equals the target.
    """
    prediction = _check_mask(prediction, "prediction")
    target = _check_mask(target, "target")
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction and target must have one shape, found {prediction.shape} and "
            f"{target.shape}"
        )
    best: tuple[int, np.ndarray, bool] | None = None
    for errors, positive in ((target & ~prediction, True), (prediction & ~target, False)):
        components, count = ndimage.label(errors)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())[1:]
        largest = int(np.argmax(sizes))
        if best is None or sizes[largest] > best[0]:
            best = (int(sizes[largest]), components == largest + 1, positive)
    if best is None:
        return None
    row, column = _farthest_pixel(best[1])
    return Click(x=column, y=row, positive=best[2])


def tight_boxes(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`tight_box` of a batch, on the masks' device.

    Args:
        masks: (B, H, W) bool.

    Returns:
        (B, 4) float32 boxes (x0, y0, x1, y1) in pixels (zeros for an empty mask) and (B,)
        bool: whether each mask has a pixel.
    """
    if masks.dim() != 3:
        raise ValueError(f"masks must be (B, H, W), found shape {tuple(masks.shape)}")
    height, width = masks.shape[-2:]
    rows, columns = masks.any(dim=2), masks.any(dim=1)
    present = rows.any(dim=1)
    row_index = torch.arange(height, device=masks.device)
    column_index = torch.arange(width, device=masks.device)

    def first_last(hits: torch.Tensor, index: torch.Tensor, size: int) -> tuple:
        first = torch.where(hits, index, size).amin(dim=1)
        last = torch.where(hits, index, -1).amax(dim=1)
        return first, last

    y0, y1 = first_last(rows, row_index, height)
    x0, x1 = first_last(columns, column_index, width)
    boxes = torch.stack([x0, y0, x1, y1], dim=1).float()
    return torch.where(present[:, None], boxes, torch.zeros_like(boxes)), present
