"""The released PG-SAM loss (a trainer setting): CE + Dice at two resolutions.

``(0.2 CE + 0.8 Dice)`` of the low-resolution logits against the nearest-downsampled target,
plus the same of the full-resolution logits. Dice as in SAMed's code: softmax, every class
including the background, ``1 - (2 sum(p y) + 1e-5) / (sum(p^2) + sum(y^2) + 1e-5)`` over the
whole batch, averaged over classes. Ignored voxels (``IGNORE_INDEX``) count in neither term.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from samseg.training.loss import IGNORE_INDEX

RELEASED_SMOOTH = 1e-5


def squared_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SAMed's Dice loss of (B, C, H, W) logits against (B, H, W) targets; a scalar."""
    classes = logits.shape[1]
    valid = target != IGNORE_INDEX
    probabilities = logits.softmax(1) * valid.unsqueeze(1)
    one_hot = F.one_hot(torch.where(valid, target, 0), classes).permute(0, 3, 1, 2)
    one_hot = one_hot.to(probabilities.dtype) * valid.unsqueeze(1)
    axes = (0, 2, 3)
    intersection = (probabilities * one_hot).sum(axes)
    denominator = (probabilities**2).sum(axes) + (one_hot**2).sum(axes)
    dice = (2 * intersection + RELEASED_SMOOTH) / (denominator + RELEASED_SMOOTH)
    return (1 - dice).mean()


class ReleasedPGSAMLoss(nn.Module):
    """Sum over the low- and full-resolution logits of ``ce_weight CE + dice_weight Dice``."""

    def __init__(self, *, ce_weight: float = 0.2, dice_weight: float = 0.8) -> None:
        super().__init__()
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight

    def term(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """One resolution's weighted CE + Dice (target already at the logits' size)."""
        logits = logits.float()
        cross_entropy = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
        if not (target != IGNORE_INDEX).any():
            cross_entropy = logits.sum() * 0.0
        return self.ce_weight * cross_entropy + self.dice_weight * squared_dice_loss(logits, target)

    def forward(
        self, low_res_logits: torch.Tensor, logits: torch.Tensor, target: torch.Tensor
    ) -> torch.Tensor:
        """
        Args:
            low_res_logits: (B, C, h, w) decoder logits.
            logits: (B, C, S, S) logits at the input size.
            target: (B, S, S) int64 class indices (``IGNORE_INDEX`` where ignored).
        """
        size = low_res_logits.shape[-2:]
        small = F.interpolate(target[:, None].float(), size, mode="nearest")[:, 0].long()
        return self.term(low_res_logits, small) + self.term(logits, target)
