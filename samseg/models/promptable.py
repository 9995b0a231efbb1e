"""The promptable-network interface the prompting code runs (``samseg.prompting``).

A SamSegmenter implements it, and so does a ProMISe network (SAM frozen, with per-class
pattern-shifting tokens): prompted prediction (``samseg_predict --prompts``) and prompted
evaluation (``samseg_evaluate_prompts``) take either.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from samseg.models.segmenter import EncodedImages, Points, PromptedMasks


@runtime_checkable
class PromptableNetwork(Protocol):
    """SAM's promptable interface.

    ``classes`` is the (B,) foreground class index of each prompt set (label value - 1): a
    network with per-class decoder state (ProMISe's IPS tokens) decodes prompt set i with
    class ``classes[i]``'s state; SAM's own decoder is the same for every class.
    """

    input_size: int
    precision: str

    def encode(self, images: torch.Tensor) -> EncodedImages:
        """(B, 3, S, S) 0-255 images -> (B, 256, G, G) embeddings."""

    def predict_with_prompts(
        self,
        image_embeddings: torch.Tensor,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
        *,
        multimask_output: bool = False,
        classes: torch.Tensor | None = None,
    ) -> PromptedMasks:
        """(B, M, 4G, 4G) fp32 logits and (B, M) IoU predictions, one prompt set per image."""

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        """(B, M, 4G, 4G) -> (B, M, S, S) bilinear."""
