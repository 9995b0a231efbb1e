"""Binary training targets of interactive training: one (slice, class) pair per sample."""

from __future__ import annotations

from typing import NamedTuple

import torch

from samseg.training.loss import IGNORE_INDEX


class BinaryTargets(NamedTuple):
    """The samples of a batch that take part in the interaction, K of B.

    Attributes:
        index: (K,) int64 positions of the kept samples in the batch.
        classes: (K,) int64 class index each kept sample is about.
        masks: (K, S, S) bool, the class's pixels.
        valid: (K, S, S) bool, pixels that count (False where the label is ``ignore``).
    """

    index: torch.Tensor
    classes: torch.Tensor
    masks: torch.Tensor
    valid: torch.Tensor

    @property
    def count(self) -> int:
        """K, the number of kept samples."""
        return len(self.index)


def binary_targets(
    target: torch.Tensor, sampled_classes: torch.Tensor | None, generator: torch.Generator
) -> BinaryTargets:
    """Choose each sample's class and make its binary target.

    A sample is about the class the foreground oversampling drew for it when that class is
    still present after augmentation; otherwise about a class drawn uniformly among the
    foreground classes present (from ``generator``); a sample without any foreground is
    left out.

    Args:
        target: (B, S, S) int64 class indices, ``IGNORE_INDEX`` where ignored.
        sampled_classes: (B,) int64 class drawn for each sample, -1 for none; or ``None``.
        generator: CPU generator of the fallback draws.
    """
    kept, classes = [], []
    for position in range(len(target)):
        present = torch.unique(target[position]).cpu()
        present = present[(present > 0) & (present != IGNORE_INDEX)]
        if len(present) == 0:
            continue
        drawn = -1 if sampled_classes is None else int(sampled_classes[position])
        if drawn not in present.tolist():
            drawn = int(present[torch.randint(len(present), (1,), generator=generator)])
        kept.append(position)
        classes.append(drawn)
    device = target.device
    index = torch.tensor(kept, dtype=torch.int64, device=device)
    class_tensor = torch.tensor(classes, dtype=torch.int64, device=device)
    chosen = target[index]
    return BinaryTargets(
        index=index,
        classes=class_tensor,
        masks=chosen == class_tensor[:, None, None],
        valid=chosen != IGNORE_INDEX,
    )
