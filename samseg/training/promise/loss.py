"""ProMISe's loss: BCE + soft Dice per foreground class on decoder logits, one sigmoid; a
setting reproduces the official code's double sigmoid; an optional presence-head BCE.

The official loss feeds ``sigmoid(z)`` to ``BCEWithLogitsLoss`` and to a Dice that applies
``sigmoid`` again, so both terms see ``sigmoid(sigmoid(z))`` in (0.5, 0.731): the loss cannot
reach 0 (1.42 for a perfect prediction of a 10 % foreground) and its gradients are damped.
``double_sigmoid=True`` computes exactly that, for parity runs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from samseg.training.loss import IGNORE_INDEX

DICE_SMOOTH = 1.0
"""Added to the Dice numerator and denominator (the official code's +1)."""


def foreground_targets(target: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, Cf, H, W) float 0/1 masks of classes 1 .. Cf and the (B, 1, H, W) float weight of
    the pixels not ignored, from (B, H, W) int64 class indices (``IGNORE_INDEX`` ignored)."""
    valid = (target != IGNORE_INDEX).unsqueeze(1).float()
    values = torch.arange(1, classes + 1, device=target.device).view(1, -1, 1, 1)
    return (target.unsqueeze(1) == values).float(), valid


class ProMISeLoss(nn.Module):
    """``bce_weight * BCE + dice_weight * (1 - Dice) [+ presence_weight * presence BCE]``.

    Args:
        bce_weight, dice_weight: weights of the pixel BCE (mean over the pixels not ignored
            and the classes) and of the soft-Dice loss (Dice per image and class, averaged).
        presence_weight: weight of the presence head's BCE against "class present in the
            slice" (used when presence logits are given).
        double_sigmoid: the official code's loss on ``sigmoid(logits)`` (see the module
            docstring); default: on the logits.
    """

    def __init__(
        self,
        *,
        bce_weight: float = 1.0,
        dice_weight: float = 1.0,
        presence_weight: float = 1.0,
        double_sigmoid: bool = False,
    ) -> None:
        super().__init__()
        self.bce_weight, self.dice_weight = bce_weight, dice_weight
        self.presence_weight = presence_weight
        self.double_sigmoid = double_sigmoid

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        presence_logits: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The scalar loss.

        Args:
            logits: (B, Cf, H, W) decoder logits of classes 1 .. Cf at the target's size.
            target: (B, H, W) int64 class indices, ``IGNORE_INDEX`` where ignored.
            presence_logits: (B, Cf) presence head logits, or ``None``.
        """
        masks, valid = foreground_targets(target, logits.shape[1])
        inputs = torch.sigmoid(logits) if self.double_sigmoid else logits
        pixels = F.binary_cross_entropy_with_logits(inputs, masks, reduction="none")
        counted = valid.expand_as(pixels)
        bce = (pixels * counted).sum() / counted.sum().clamp_min(1.0)
        probabilities = torch.sigmoid(inputs) * valid
        masks = masks * valid
        intersection = (probabilities * masks).sum(dim=(2, 3))
        total = probabilities.sum(dim=(2, 3)) + masks.sum(dim=(2, 3))
        dice = (2 * intersection + DICE_SMOOTH) / (total + DICE_SMOOTH)
        loss = self.bce_weight * bce + self.dice_weight * (1 - dice.mean())
        if presence_logits is not None:
            present = (masks.sum(dim=(2, 3)) > 0).float()
            presence = F.binary_cross_entropy_with_logits(presence_logits, present)
            loss = loss + self.presence_weight * presence
        return loss
