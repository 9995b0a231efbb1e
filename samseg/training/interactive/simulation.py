"""Prompts of simulated interaction in training, batched in torch, drawn from a generator.

Everything is in the S x S network-input frame: a point is (x, y) = (column, row) of a pixel, a
box (x0, y0, x1, y1) of inclusive pixel indices, as ``samseg.prompting.simulation``. Random
numbers come from one CPU ``torch.Generator`` (the trainer's, saved in its checkpoints), so a
run is reproducible and the draws do not depend on the device.
"""

from __future__ import annotations

import torch

from samseg.models.segmenter import Points
from samseg.prompting import tight_boxes
from samseg.training.interactive.settings import FIRST_PROMPT_KINDS, FirstPromptKind

PADDING_LABEL = -1
"""Label of a padding point (SAM's prompt encoder gives it the "not a point" embedding)."""


def draw_first_prompt(
    probabilities: tuple[float, ...], generator: torch.Generator
) -> FirstPromptKind:
    """The first step's prompt kind (``none``, ``point`` or ``box``) by ``probabilities``."""
    weights = torch.tensor(probabilities, dtype=torch.float64)
    return FIRST_PROMPT_KINDS[int(torch.multinomial(weights, 1, generator=generator))]


def draw_mask_only(probability: float, generator: torch.Generator) -> bool:
    """Whether a corrective step (not the last) gives the mask prompt alone."""
    return bool(torch.rand((), generator=generator, dtype=torch.float64) < probability)


def draw_point_count(maximum: int, generator: torch.Generator) -> int:
    """k ~ U{1 .. maximum}, the new points of a corrective step."""
    return int(torch.randint(1, maximum + 1, (), generator=generator))


def uniform_pixels(
    masks: torch.Tensor, count: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``count`` distinct pixels of each mask, drawn uniformly.

    Args:
        masks: (B, H, W) bool.
        count: pixels per mask.

    Returns:
        (B, count, 2) float32 (x, y) coordinates (0 where there is no pixel) and (B, count)
        bool: which entries hold a pixel (a mask with n < count pixels fills n).
    """
    batch, _, width = masks.shape
    coords = torch.zeros(batch, count, 2, device=masks.device)
    filled = torch.zeros(batch, count, dtype=torch.bool, device=masks.device)
    for position in range(batch):
        pixels = torch.nonzero(masks[position].flatten()).squeeze(1)
        chosen = torch.randperm(len(pixels), generator=generator)[:count].to(masks.device)
        picked = pixels[chosen]
        coords[position, : len(picked), 0] = (picked % width).float()
        coords[position, : len(picked), 1] = torch.div(picked, width, rounding_mode="floor").float()
        filled[position, : len(picked)] = True
    return coords, filled


def first_points(masks: torch.Tensor, generator: torch.Generator) -> Points:
    """One positive point drawn uniformly inside each (non-empty) mask: (B, 1, 2), (B, 1)."""
    coords, _ = uniform_pixels(masks, 1, generator)
    return coords, torch.ones(len(masks), 1, dtype=torch.int64, device=masks.device)


def noisy_boxes(
    masks: torch.Tensor, generator: torch.Generator, *, fraction: float, cap: float
) -> torch.Tensor:
    """Tight boxes with Gaussian noise on each coordinate.

    The noise on x0 and x1 has standard deviation ``fraction`` x the box width, on y0 and y1
    ``fraction`` x its height, each clipped to +- ``cap`` pixels; the result is clamped to
    the frame and ordered (x0 <= x1, y0 <= y1).

    Args:
        masks: (B, H, W) bool, non-empty.

    Returns:
        (B, 4) float32 boxes (x0, y0, x1, y1).
    """
    boxes, _ = tight_boxes(masks)
    height, width = masks.shape[-2:]
    sides = torch.stack([boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], dim=1)
    scale = (fraction * sides).repeat(1, 2)
    noise = torch.randn(boxes.shape, generator=generator).to(boxes.device) * scale
    noisy = boxes + noise.clamp(-cap, cap)
    limits = torch.tensor([width - 1, height - 1] * 2, device=boxes.device, dtype=boxes.dtype)
    noisy = torch.minimum(noisy.clamp_min(0), limits)
    low = torch.minimum(noisy[:, :2], noisy[:, 2:])
    high = torch.maximum(noisy[:, :2], noisy[:, 2:])
    return torch.cat([low, high], dim=1)


def error_region_points(
    predictions: torch.Tensor, targets: torch.Tensor, count: int, generator: torch.Generator
) -> Points:
    """``count`` new points drawn uniformly from each sample's error region.

    A point on a false negative (target, not predicted) is positive (label 1), on a false
    positive negative (label 0). A sample whose error region has fewer than ``count`` pixels
    is padded with label -1 points at (0, 0), as the official code pads.

    Args:
        predictions: (B, S, S) bool current predictions.
        targets: (B, S, S) bool targets.

    Returns:
        (B, count, 2) float32 (x, y) and (B, count) int64 labels.
    """
    coords, filled = uniform_pixels(predictions ^ targets, count, generator)
    columns, rows = coords[..., 0].long(), coords[..., 1].long()
    batch = torch.arange(len(targets), device=targets.device)[:, None]
    missed = targets[batch, rows, columns].long()
    labels = torch.where(filled, missed, torch.full_like(missed, PADDING_LABEL))
    return coords, labels
