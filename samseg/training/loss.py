"""Segmentation losses and the online pseudo-Dice counts.

SAMed trains its multi-class SAM with ``0.2 * cross-entropy + 0.8 * soft Dice``; that is
:class:`DiceCELoss` with its defaults. Voxels whose target is ``ignore_index`` (the dataset's
``ignore`` label, see ``samseg.training.data``) count in neither term.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = -100
DICE_SMOOTH = 1e-5


def soft_dice_per_class(
    probabilities: torch.Tensor,
    target: torch.Tensor,
    *,
    ignore_index: int = IGNORE_INDEX,
    smooth: float = DICE_SMOOTH,
) -> torch.Tensor:
    """Soft Dice of every class over the whole batch (nnU-Net's "batch Dice").

    Args:
        probabilities: (B, C, H, W) class probabilities (softmax of the logits).
        target: (B, H, W) int64 class indices in [0, C), or ``ignore_index``.
        ignore_index: target value of voxels left out.
        smooth: added to numerator and denominator, so an absent class predicted absent
            scores 1.

    Returns:
        (C,) float: ``(2 * sum(p * t) + smooth) / (sum(p) + sum(t) + smooth)`` per class, the
        sums over batch and pixels of the voxels not ignored.
    """
    num_classes = probabilities.shape[1]
    valid = target != ignore_index
    one_hot = F.one_hot(torch.where(valid, target, 0), num_classes).permute(0, 3, 1, 2)
    mask = valid.unsqueeze(1).to(probabilities.dtype)
    one_hot = one_hot.to(probabilities.dtype) * mask
    probabilities = probabilities * mask
    axes = (0, 2, 3)
    intersection = (probabilities * one_hot).sum(axes)
    denominator = probabilities.sum(axes) + one_hot.sum(axes)
    return (2 * intersection + smooth) / (denominator + smooth)


class DiceCELoss(nn.Module):
    """``ce_weight * cross-entropy + dice_weight * (1 - mean soft Dice)``.

    Args:
        ce_weight: weight of the cross-entropy, averaged over the voxels not ignored.
        dice_weight: weight of the soft-Dice loss.
        ignore_index: target value of voxels left out of both terms.
        include_background: whether class 0 enters the Dice mean (SAMed: yes; nnU-Net: no).
    """

    def __init__(
        self,
        *,
        ce_weight: float = 0.2,
        dice_weight: float = 0.8,
        ignore_index: int = IGNORE_INDEX,
        include_background: bool = True,
    ) -> None:
        super().__init__()
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight
        self.ignore_index = ignore_index
        self.include_background = include_background

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of (B, C, H, W) ``logits`` against (B, H, W) int64 ``target``; a scalar.

        A batch whose voxels are all ignored gives 0 (with a gradient of 0).
        """
        logits = logits.float()
        valid_count = (target != self.ignore_index).sum().clamp(min=1)
        cross_entropy = (
            F.cross_entropy(logits, target, ignore_index=self.ignore_index, reduction="sum")
            / valid_count
        )
        dice = soft_dice_per_class(logits.softmax(1), target, ignore_index=self.ignore_index)
        if not self.include_background:
            dice = dice[1:]
        return self.ce_weight * cross_entropy + self.dice_weight * (1 - dice.mean())


@torch.no_grad()
def pseudo_dice(
    logits: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """True positives, false positives and false negatives of the arg-max prediction.

    The counts of successive validation batches add up; nnU-Net's online "pseudo Dice" of a
    class is ``2 tp / (2 tp + fp + fn)`` of those sums, smoothed across epochs by an EMA.

    Args:
        logits: (B, C, H, W) network output.
        target: (B, H, W) int64 class indices, or ``ignore_index`` (not counted).
        num_classes: C.
        ignore_index: target value of voxels left out.

    Returns:
        (tp, fp, fn), each (C,) int64 voxel counts; index 0 is the background, which nnU-Net
        leaves out of the reported mean.
    """
    valid = target != ignore_index
    prediction = logits.argmax(1)[valid]
    reference = target[valid]
    tp = torch.bincount(reference[prediction == reference], minlength=num_classes)
    predicted = torch.bincount(prediction, minlength=num_classes)
    actual = torch.bincount(reference, minlength=num_classes)
    return tp, predicted - tp, actual - tp
