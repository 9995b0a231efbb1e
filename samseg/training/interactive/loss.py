"""The loss of one interaction step: Dice + 20 x sigmoid focal + MSE of the IoU head.

The terms follow the P²SAM code's MONAI ``DiceLoss(sigmoid=True)`` (per sample, smoothing
1e-5 in numerator and denominator, mean over samples) and torchvision's
``sigmoid_focal_loss(alpha=0.25, gamma=2, reduction="mean")``, with pixels whose label is
``ignore`` left out of both; the IoU target is the IoU of the thresholded prediction
(logits > 0) with the target.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

DICE_SMOOTH = 1e-5


def sigmoid_dice_loss(
    logits: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """Mean over samples of ``1 - (2 sum(p t) + e) / (sum p + sum t + e)``.

    Args:
        logits: (K, S, S) mask logits.
        targets: (K, S, S) bool.
        valid: (K, S, S) bool, the pixels that count.
    """
    weight = valid.float()
    probabilities = torch.sigmoid(logits) * weight
    truth = targets.float() * weight
    intersection = (probabilities * truth).flatten(1).sum(1)
    denominator = probabilities.flatten(1).sum(1) + truth.flatten(1).sum(1)
    return (1 - (2 * intersection + DICE_SMOOTH) / (denominator + DICE_SMOOTH)).mean()


def sigmoid_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    valid: torch.Tensor,
    *,
    alpha: float,
    gamma: float,
) -> torch.Tensor:
    """Mean over the valid pixels of ``alpha_t (1 - p_t)^gamma BCE``; (K, S, S) inputs."""
    truth = targets.float()
    probabilities = torch.sigmoid(logits)
    cross_entropy = F.binary_cross_entropy_with_logits(logits, truth, reduction="none")
    p_t = probabilities * truth + (1 - probabilities) * (1 - truth)
    alpha_t = alpha * truth + (1 - alpha) * (1 - truth)
    loss = alpha_t * cross_entropy * (1 - p_t) ** gamma
    weight = valid.float()
    return (loss * weight).sum() / weight.sum().clamp_min(1)


def mask_iou(predictions: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """(K,) IoU of bool (K, S, S) predictions and targets over the valid pixels (1 where both
    are empty)."""
    predictions, targets = predictions & valid, targets & valid
    intersection = (predictions & targets).flatten(1).sum(1).float()
    union = (predictions | targets).flatten(1).sum(1).float()
    return torch.where(union > 0, intersection / union.clamp_min(1), torch.ones_like(union))


class InteractiveLoss(nn.Module):
    """``Dice + focal_weight x focal + iou_weight x MSE(IoU head, true IoU)`` of one step.

    Args:
        focal_weight, focal_alpha, focal_gamma: the focal term (P²SAM: 20, 0.25, 2).
        iou_weight: weight of the IoU-head term (P²SAM: 1).
    """

    def __init__(
        self,
        *,
        focal_weight: float = 20.0,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        iou_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.focal_weight = focal_weight
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.iou_weight = iou_weight

    def forward(
        self,
        logits: torch.Tensor,
        iou_predictions: torch.Tensor,
        targets: torch.Tensor,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        """The scalar loss.

        Args:
            logits: (K, 1, S, S) single-mask logits at the input size.
            iou_predictions: (K, 1) the IoU head's output.
            targets: (K, S, S) bool.
            valid: (K, S, S) bool, the pixels that count.
        """
        logits = logits[:, 0].float()
        dice = sigmoid_dice_loss(logits, targets, valid)
        focal = sigmoid_focal_loss(
            logits, targets, valid, alpha=self.focal_alpha, gamma=self.focal_gamma
        )
        true_iou = mask_iou(logits.detach() > 0, targets, valid)
        iou = F.mse_loss(iou_predictions[:, 0].float(), true_iou)
        return dice + self.focal_weight * focal + self.iou_weight * iou
