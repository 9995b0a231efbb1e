"""Prompted validation of an interactive network: box and 1-point pseudo-Dice per class.

Each kept validation sample (one slice, one class) is decoded twice, with the tight box of its
target and with the interior point farthest from the target's border (the ``box`` and
``point`` modes of prompted prediction, ``samseg.prompting``), single-mask output; the true
positives, false positives and false negatives of each are added to the sample's class.
"""

from __future__ import annotations

import numpy as np
import torch

from samseg.models.segmenter import Points, SamSegmenter
from samseg.prompting import farthest_interior_point, tight_boxes
from samseg.training.interactive.loss import InteractiveLoss
from samseg.training.interactive.targets import BinaryTargets

VALIDATION_PROMPTS = ("box", "point")


def _prompts(masks: torch.Tensor, mode: str) -> tuple[Points | None, torch.Tensor | None]:
    """The (points, boxes) of ``mode`` for (K, S, S) bool masks."""
    if mode == "box":
        return None, tight_boxes(masks)[0]
    found = [farthest_interior_point(mask) for mask in masks.cpu().numpy()]
    coords = torch.as_tensor(np.stack(found)[:, None], dtype=torch.float32, device=masks.device)
    return (coords, torch.ones(len(masks), 1, dtype=torch.int64, device=masks.device)), None


def class_counts(
    predictions: torch.Tensor, targets: BinaryTargets, num_classes: int
) -> torch.Tensor:
    """(3, C) int64 true positives, false positives, false negatives of (K, S, S) bool
    predictions, each sample's added to its class (ignored pixels left out)."""
    masks, valid = targets.masks, targets.valid
    per_sample = torch.stack(
        [
            (predictions & masks & valid).flatten(1).sum(1),
            (predictions & ~masks & valid).flatten(1).sum(1),
            (~predictions & masks & valid).flatten(1).sum(1),
        ]
    ).cpu()
    counts = torch.zeros(3, num_classes, dtype=torch.int64)
    return counts.index_add_(1, targets.classes.cpu(), per_sample)


def prompted_validation(
    network: SamSegmenter,
    embeddings: torch.Tensor,
    targets: BinaryTargets,
    *,
    loss: InteractiveLoss,
    num_classes: int,
) -> tuple[float, dict[str, torch.Tensor]]:
    """The mean loss over the prompt modes and each mode's (3, C) counts.

    Args:
        network: the promptable network.
        embeddings: (K, 256, G, G) embeddings of the kept samples (K >= 1).
        targets: their binary targets.
        loss: the per-step loss.
        num_classes: C, background included.
    """
    total = 0.0
    counts = {}
    for mode in VALIDATION_PROMPTS:
        points, boxes = _prompts(targets.masks, mode)
        output = network.predict_with_prompts(
            embeddings, points, boxes, None, multimask_output=False
        )
        logits = network.upscale_logits(output.low_res_logits)
        total += float(loss(logits, output.iou_predictions, targets.masks, targets.valid))
        counts[mode] = class_counts(logits[:, 0] > 0, targets, num_classes)
    return total / len(VALIDATION_PROMPTS), counts
