"""The Transformer auto-prompting module: one learned query per coordinate slot, refined by
cross-attention to each fused encoder level in turn (deepest first), then regressed.

As the official variant: per level one layer of cross-attention (queries + query position
against level tokens + a 2D sine position + a learned level embedding), add & LayerNorm, a
GELU MLP of 4x width, add & LayerNorm; no self-attention. Unlike it, each level keeps its own
grid (projected to the query width by a linear layer) instead of being upsampled by
transposed convolutions, and the width is a setting (the official 768 is ViT-B's).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def sine_positions(side: int, width: int, device: torch.device) -> torch.Tensor:
    """(side * side, width) sine/cosine encoding of a square grid's (y, x) cell centres,
    ``width / 4`` frequencies per axis and function; rows in row-major cell order."""
    quarter = width // 4
    frequencies = torch.exp(
        torch.arange(quarter, device=device) * (-math.log(10000.0) / max(quarter, 1))
    )
    centres = (torch.arange(side, device=device, dtype=torch.float32) + 0.5) / side
    angles = 2 * math.pi * centres[:, None] * frequencies[None]
    per_axis = torch.cat([angles.sin(), angles.cos()], dim=1)
    rows = per_axis[:, None, :].expand(side, side, -1)
    columns = per_axis[None, :, :].expand(side, side, -1)
    encoding = torch.cat([rows, columns], dim=2).reshape(side * side, -1)
    return nn.functional.pad(encoding, (0, width - encoding.shape[1]))


class CrossAttentionLayer(nn.Module):
    """Queries attend to one level's tokens, then an MLP; post-LayerNorm residuals."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_attention = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width)
        )
        self.norm_mlp = nn.LayerNorm(width)

    def forward(
        self,
        queries: torch.Tensor,
        query_pos: torch.Tensor,
        memory: torch.Tensor,
        pos: torch.Tensor,
    ) -> torch.Tensor:
        """(B, Q, W) queries, (1, Q, W) their positions, (B, T, W) tokens, (1, T, W) theirs."""
        attended, _ = self.attention(queries + query_pos, memory + pos, memory, need_weights=False)
        queries = self.norm_attention(queries + attended)
        return self.norm_mlp(queries + self.mlp(queries))


class TransformerAutoPrompter(nn.Module):
    """The Transformer APM: (B, n, Q, 2) coordinates in (0, 1) and optional presence logits.

    Args:
        in_channels: channels of each level, shallow to deep.
        classes: n, classes predicted.
        slots: Q, coordinate pairs per class.
        width, heads: query width and attention heads.
        presence: add the presence head (on each class's mean query).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        classes: int,
        slots: int,
        *,
        width: int,
        heads: int,
        presence: bool,
    ) -> None:
        super().__init__()
        self.classes, self.slots, self.width = classes, slots, width
        self.projections = nn.ModuleList(nn.Linear(c, width) for c in in_channels)
        self.level_embedding = nn.Embedding(len(in_channels), width)
        self.query_features = nn.Embedding(classes * slots, width)
        self.query_positions = nn.Embedding(classes * slots, width)
        self.layers = nn.ModuleList(CrossAttentionLayer(width, heads) for _ in in_channels)
        self.coordinates = nn.Linear(width, 2)
        self.presence = nn.Linear(width, 1) if presence else None

    def forward(self, features: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, side_l, side_l, C_l) block outputs, shallow to deep -> (B, n, Q, 2) sigmoid
        coordinates (x, y) in (0, 1) of the input side, and (B, n) presence logits or None."""
        batch = features[0].shape[0]
        queries = self.query_features.weight.unsqueeze(0).expand(batch, -1, -1)
        query_pos = self.query_positions.weight.unsqueeze(0)
        levels = list(enumerate(features))[::-1]
        for layer, (level, feature) in zip(self.layers, levels, strict=True):
            side = feature.shape[1]
            memory = self.projections[level](feature.flatten(1, 2))
            pos = (
                sine_positions(side, self.width, feature.device)
                + self.level_embedding.weight[level]
            )
            queries = layer(queries, query_pos, memory, pos.unsqueeze(0))
        per_class = queries.unflatten(1, (self.classes, self.slots))
        unit = torch.sigmoid(self.coordinates(per_class))
        presence = None if self.presence is None else self.presence(per_class.mean(2)).squeeze(-1)
        return unit, presence
