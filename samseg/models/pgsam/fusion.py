"""PG-SAM's fusions: the guide into the image embedding, and multi-level features (MLFF).

:class:`GuideFusion` follows the released code before the decoder: two transformer-encoder
layers over the tokens [E + G; G] (8 heads, feed-forward 1024, dropout 0.1, keeping the
first half of the outputs; the second layer adds a linear map of the first's output), then
an adaptive fusion (squeeze-excitation channel weights of E + attention output, a 7x7
spatial gate from E's channel mean and maximum), and E' = E + 0.1 (E + gates * attention).
Beyond the release: on grids larger than ``attention_grid`` (the release runs on 14 x 14)
the attention runs on an average-pooled grid and its output is upsampled bilinearly, so a
64 x 64 LiteMedSAM grid costs what the release's does.

:class:`LevelFusion` is the decoder-side multi-level fusion at the 4G x 4G resolution of
SAM's upscaled features U (32 channels): the guide, 1x1-projected to 32 channels (the
release), plus chosen intermediate encoder blocks, each 1x1-projected and upsampled (the
paper's multi-level sampling; the release discards its intermediate block output).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

DECODER_CHANNELS = 32
"""Channels of SAM's upscaled decoder features U and of the dynamic kernels."""


class GuideFusion(nn.Module):
    """(E, G) -> E' = E + 0.1 * enhanced E; both (B, 256, G, G)."""

    def __init__(self, *, channels: int = 256, attention_grid: int = 16) -> None:
        super().__init__()
        self.attention_grid = attention_grid
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                channels, nhead=8, dim_feedforward=1024, dropout=0.1, batch_first=True
            )
            for _ in range(2)
        )
        self.residual = nn.Linear(channels, channels)
        self.channel_gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, channels // 8, 1),
            nn.ReLU(),
            nn.Conv2d(channels // 8, channels, 1),
            nn.Sigmoid(),
        )
        self.spatial_gate = nn.Sequential(nn.Conv2d(2, 1, 7, padding=3), nn.Sigmoid())

    def attend(self, embeddings: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        """The cross-attention output (B, 256, G, G)."""
        size = embeddings.shape[-2:]
        if max(size) > self.attention_grid:
            pooled = (self.attention_grid, self.attention_grid)
            embeddings = F.adaptive_avg_pool2d(embeddings, pooled)
            guide = F.adaptive_avg_pool2d(guide, pooled)
        batch, channels, height, width = embeddings.shape
        source = (embeddings + guide).flatten(2).transpose(1, 2)
        guide_tokens = guide.flatten(2).transpose(1, 2)
        count = source.shape[1]
        first = self.layers[0](torch.cat([source, guide_tokens], dim=1))[:, :count]
        second = self.layers[1](torch.cat([first, guide_tokens], dim=1))[:, :count]
        output = (second + self.residual(first)).transpose(1, 2)
        output = output.reshape(batch, channels, height, width)
        if output.shape[-2:] != size:
            output = F.interpolate(output, size, mode="bilinear", align_corners=False)
        return output

    def forward(self, embeddings: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        """(B, 256, G, G) embedding and guide -> (B, 256, G, G) fused embedding."""
        attended = self.attend(embeddings, guide)
        channel = self.channel_gate(embeddings + attended)
        pooled = torch.cat(
            [embeddings.mean(dim=1, keepdim=True), embeddings.amax(dim=1, keepdim=True)], dim=1
        )
        enhanced = embeddings + channel * self.spatial_gate(pooled) * attended
        return embeddings + 0.1 * enhanced


class LevelFusion(nn.Module):
    """U + proj(G) + sum over levels of proj(level), all at U's (4G, 4G) resolution."""

    def __init__(self, *, level_channels: Sequence[int], guide_channels: int = 256) -> None:
        """
        Args:
            level_channels: channels of each fused encoder block output, in level order.
            guide_channels: channels of the guide.
        """
        super().__init__()
        self.guide_projection = nn.Conv2d(guide_channels, DECODER_CHANNELS, 1)
        self.level_projections = nn.ModuleList(
            nn.Conv2d(channels, DECODER_CHANNELS, 1) for channels in level_channels
        )

    def forward(
        self, upscaled: torch.Tensor, guide: torch.Tensor, levels: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """
        Args:
            upscaled: (B, 32, H, W) SAM's upscaled decoder features U (H = W = 4G).
            guide: (B, 256, G, G).
            levels: one (B, side, side, channels) block output per level, in level order.

        Returns:
            (B, 32, H, W) fused features.

        Raises:
            ValueError: another number of levels than the fusion was built for.
        """
        if len(levels) != len(self.level_projections):
            raise ValueError(
                f"expected {len(self.level_projections)} encoder block outputs for the "
                f"multi-level fusion, found {len(levels)}"
            )
        size = upscaled.shape[-2:]
        fused = upscaled + _resized(self.guide_projection(guide), size)
        for projection, level in zip(self.level_projections, levels, strict=True):
            fused = fused + _resized(projection(level.permute(0, 3, 1, 2)), size)
        return fused


def _resized(features: torch.Tensor, size: torch.Size) -> torch.Tensor:
    if features.shape[-2:] == size:
        return features
    return F.interpolate(features, size, mode="bilinear", align_corners=False)
