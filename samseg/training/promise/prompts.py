"""Point prompts sampled from a label for ProMISe's IPS-only training and its validation:
per image and foreground class, positives drawn uniformly inside the class and negatives
outside it (``samseg.prompting.random_interior_points``), in fixed slots."""

from __future__ import annotations

import numpy as np
import torch

from samseg.prompting.simulation import random_interior_points
from samseg.training.loss import IGNORE_INDEX

PADDING_LABEL = -1
"""SAM's label of a point slot that holds no point (its embedding is 'not a point')."""


def label_points(
    target: torch.Tensor,
    classes: int,
    positive: int,
    negative: int,
    rng: np.random.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Point prompts of every image and class of a batch.

    Args:
        target: (B, S, S) int64 class indices (``IGNORE_INDEX`` pixels are never chosen).
        classes: Cf; class c + 1 of the target is slot set c.
        positive, negative: slots per class; the first ``positive`` are label 1.
        rng: draws the pixels.

    Returns:
        (B, Cf, K, 2) float32 (x, y) pixel coordinates and (B, Cf, K) int64 labels (1, 0, or
        :data:`PADDING_LABEL` where the class, or the rest of the image, has no pixel),
        on ``target``'s device.
    """
    labels_np = target.cpu().numpy()
    count = positive + negative
    coordinates = np.zeros((len(labels_np), classes, count, 2), dtype=np.float32)
    labels = np.full((len(labels_np), classes, count), PADDING_LABEL, dtype=np.int64)
    for image, label in enumerate(labels_np):
        valid = label != IGNORE_INDEX
        for index in range(classes):
            inside = label == index + 1
            for start, number, mask, value in (
                (0, positive, inside, 1),
                (positive, negative, valid & ~inside, 0),
            ):
                if number == 0 or not mask.any():
                    continue
                coordinates[image, index, start : start + number] = random_interior_points(
                    mask, number, rng
                )
                labels[image, index, start : start + number] = value
    device = target.device
    return torch.from_numpy(coordinates).to(device), torch.from_numpy(labels).to(device)
