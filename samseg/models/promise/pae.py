"""The pattern embedding (PaE): the pooled image embedding -> IPS tokens, one set of four
256-d tokens per class, added to SAM's four mask tokens (incremental pattern shifting)."""

from __future__ import annotations

import torch
from torch import nn

from samseg.models.architectures import PROMPT_EMBED_DIM

MASK_TOKENS = 4
"""SAM's mask tokens: the single-mask token and the three multimask tokens."""


class PatternEmbedding(nn.Module):
    """Global average pool -> Linear(256, hidden) -> GELU -> Linear(hidden, n * 4 * 256).

    Args:
        classes: n, token sets produced (one per class).
        hidden: hidden width (1024 as in the official code).
    """

    def __init__(self, classes: int, hidden: int = 1024) -> None:
        super().__init__()
        self.classes = classes
        self.mlp = nn.Sequential(
            nn.Linear(PROMPT_EMBED_DIM, hidden),
            nn.GELU(),
            nn.Linear(hidden, classes * MASK_TOKENS * PROMPT_EMBED_DIM),
        )

    def forward(self, image_embeddings: torch.Tensor) -> torch.Tensor:
        """(B, 256, G, G) image embeddings -> (B, n, 4, 256) IPS tokens."""
        pooled = image_embeddings.mean(dim=(2, 3))
        return self.mlp(pooled).unflatten(1, (self.classes, MASK_TOKENS, PROMPT_EMBED_DIM))
