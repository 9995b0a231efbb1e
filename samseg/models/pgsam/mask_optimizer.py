"""PG-SAM's iterative mask optimizer (IMO): dynamic kernels, then refinement iterations.

One hypernetwork (an MLP 256 -> 256 -> 256 -> 32, shared by all classes) turns each class's
decoded token into a 32-value 1x1 kernel over the fused decoder features U, giving one logit
map per class. A refiner shared by all classes (3x3 convolution to 32 channels, GELU, 1x1
convolution to 1) then adds a correction to each class's logits from [its current logits,
U] (plus its upsampled guide heatmap in ``classwise`` mode), ``iterations`` times, in logit
space. The release uses one MLP per token and one iteration; here the hypernetwork is shared so
that a class's kernel depends on its (text-conditioned) token only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models.pgsam.fusion import DECODER_CHANNELS
from samseg.models.sam_import import import_segment_anything

_MLP = import_segment_anything().modeling.mask_decoder.MLP


class IterativeMaskOptimizer(nn.Module):
    """(class tokens, U[, heatmaps]) -> (B, C, H, W) class logits."""

    def __init__(self, *, iterations: int = 1, with_heatmaps: bool = True, channels: int = 256):
        """
        Args:
            iterations: refinement iterations (0: the dynamic-kernel logits alone).
            with_heatmaps: the refiner also sees the class's guide heatmap.
            channels: width of the decoded class tokens.
        """
        super().__init__()
        if iterations < 0:
            raise ValueError(f"IMO iterations must be >= 0, found {iterations}")
        self.iterations = iterations
        self.with_heatmaps = with_heatmaps
        self.hypernetwork = _MLP(channels, channels, DECODER_CHANNELS, 3)
        inputs = 1 + DECODER_CHANNELS + int(with_heatmaps)
        self.refiner = nn.Sequential(
            nn.Conv2d(inputs, DECODER_CHANNELS, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(DECODER_CHANNELS, 1, 1),
        )

    def forward(
        self,
        class_tokens: torch.Tensor,
        features: torch.Tensor,
        heatmaps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """
        Args:
            class_tokens: (B, C, 256) decoded class tokens.
            features: (B, 32, H, W) fused decoder features U.
            heatmaps: (B, C, h, w) guide heatmaps (needed when built ``with_heatmaps``).

        Returns:
            (B, C, H, W) class logits after the refinement iterations.
        """
        batch, classes = class_tokens.shape[:2]
        kernels = self.hypernetwork(class_tokens)
        logits = torch.einsum("bkc,bchw->bkhw", kernels, features)
        size = features.shape[-2:]
        shared = features.unsqueeze(1).expand(-1, classes, -1, -1, -1)
        extra = []
        if self.with_heatmaps:
            if heatmaps is None:
                raise ValueError("this mask optimizer refines with guide heatmaps; none given")
            resized = F.interpolate(heatmaps, size, mode="bilinear", align_corners=False)
            extra = [resized.unsqueeze(2)]
        for _ in range(self.iterations):
            inputs = torch.cat([logits.unsqueeze(2), *extra, shared], dim=2)
            correction = self.refiner(inputs.flatten(0, 1)).view(batch, classes, *size)
            logits = logits + correction
        return logits
