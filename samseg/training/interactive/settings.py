"""The settings of simulated interaction in training (P²SAM appendix B, the official code's
values as defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FirstPromptKind = Literal["none", "point", "box"]
FIRST_PROMPT_KINDS: tuple[FirstPromptKind, ...] = ("none", "point", "box")


@dataclass(frozen=True, kw_only=True)
class InteractionSettings:
    """How one batch's interaction is simulated and scored.

    Attributes:
        first_prompt_weights: relative weights of the first step's prompt (no prompt, one
            uniform point inside the object, a noisy box), drawn once per batch; ``None``
            (default): 1/3 each for a dataset with one foreground class, and point / box 1/2
            each (no "no prompt" step) with several, where a class-agnostic SAM cannot know
            which class an unprompted mask should be.
        corrective_steps: steps after the first, each with the previous low-resolution logits
            as mask prompt (10: 11 decoder passes per batch).
        mask_only_probability: chance of a corrective step (before the last, which always is)
            being mask-only, drawn afresh each step (the official code's 1/9).
        max_new_points: a corrective step with points takes k ~ U{1 .. max_new_points} new
            points from the error region (one k per batch).
        box_noise_fraction: standard deviation of the Gaussian noise on each box coordinate,
            as a fraction of the box side along that coordinate's axis.
        box_noise_cap: the noise on a box coordinate is clipped to +- this many pixels.
        focal_weight, focal_alpha, focal_gamma: loss weight and parameters of the sigmoid
            focal term.
        iou_weight: weight of the MSE between the IoU head and the true IoU.
    """

    first_prompt_weights: tuple[float, float, float] | None = None
    corrective_steps: int = 10
    mask_only_probability: float = 1 / 9
    max_new_points: int = 9
    box_noise_fraction: float = 0.1
    box_noise_cap: float = 20.0
    focal_weight: float = 20.0
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    iou_weight: float = 1.0

    def __post_init__(self) -> None:
        weights = self.first_prompt_weights
        if weights is not None and (
            len(weights) != 3 or min(weights) < 0 or sum(weights) <= 0
        ):
            raise ValueError(
                "first_prompt_weights: expected three weights >= 0 (none, point, box) with a "
                f"positive sum, found {weights}"
            )
        if self.corrective_steps < 0 or self.max_new_points < 1:
            raise ValueError(
                "expected corrective_steps >= 0 and max_new_points >= 1, found "
                f"{self.corrective_steps} and {self.max_new_points}"
            )
        if not 0 <= self.mask_only_probability <= 1:
            raise ValueError(
                f"mask_only_probability: expected a value in [0, 1], found "
                f"{self.mask_only_probability}"
            )

    def first_prompt_probabilities(self, num_foreground_classes: int) -> tuple[float, ...]:
        """Probabilities of (no prompt, point, box) for a dataset with that many foreground
        classes (see :attr:`first_prompt_weights`)."""
        weights = self.first_prompt_weights
        if weights is None:
            weights = (1.0, 1.0, 1.0) if num_foreground_classes <= 1 else (0.0, 1.0, 1.0)
        total = float(sum(weights))
        return tuple(w / total for w in weights)
