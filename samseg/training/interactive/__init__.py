"""Interactive training of a promptable SAM (P²SAM appendix B): per batch, simulated prompts
(none, a point or a noisy box, then corrective points from the error region with the previous
logits as mask prompt), a single-mask output and Dice + focal + IoU-head loss at every step.

- ``settings``: :class:`InteractionSettings`, the recipe's knobs.
- ``targets``: one (slice, class) binary target per sample (:func:`binary_targets`).
- ``simulation``: the prompts, batched in torch from one generator.
- ``loss``: :class:`InteractiveLoss`, the per-step loss.
- ``episode``: :func:`interaction_losses`, one batch's steps as a generator of losses.
- ``validation``: :func:`prompted_validation`, box and 1-point pseudo-Dice counts.

The trainers are in ``samseg.training.trainers.interactive``.
"""

from samseg.training.interactive.episode import interaction_losses
from samseg.training.interactive.loss import InteractiveLoss
from samseg.training.interactive.settings import (
    FIRST_PROMPT_KINDS,
    FirstPromptKind,
    InteractionSettings,
)
from samseg.training.interactive.targets import BinaryTargets, binary_targets
from samseg.training.interactive.validation import VALIDATION_PROMPTS, prompted_validation

__all__ = [
    "FIRST_PROMPT_KINDS",
    "VALIDATION_PROMPTS",
    "BinaryTargets",
    "FirstPromptKind",
    "InteractionSettings",
    "InteractiveLoss",
    "binary_targets",
    "interaction_losses",
    "prompted_validation",
]
