"""Multi-level fusion: chosen encoder block outputs resampled to the embedding grid, stacked
and mixed by three 3x3 convolutions (ProMISe's feature map of blocks 12, 9 and 6)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def to_grid(feature: torch.Tensor, grid: int) -> torch.Tensor:
    """A (B, side, side, C) block output as a (B, C, grid, grid) map: average-pooled when
    larger (TinyViT's early stages), bilinearly upsampled when smaller, else unchanged."""
    channels_first = feature.permute(0, 3, 1, 2)
    side = channels_first.shape[-1]
    if side > grid:
        return F.adaptive_avg_pool2d(channels_first, grid)
    if side < grid:
        return F.interpolate(channels_first, (grid, grid), mode="bilinear", align_corners=False)
    return channels_first


class MultiLevelFusion(nn.Module):
    """conv3x3 -> ReLU -> conv3x3 -> ReLU -> conv3x3 over the stacked levels, deepest first.

    Args:
        in_channels: channels of each level, in the order the blocks are given.
        grid: G, side of the output map (the image embedding's grid).
        channels: output channels (256).
    """

    def __init__(self, in_channels: Sequence[int], grid: int, channels: int = 256) -> None:
        super().__init__()
        self.grid = grid
        self.layers = nn.Sequential(
            nn.Conv2d(sum(in_channels), channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """(B, side_l, side_l, C_l) block outputs, shallow to deep -> (B, channels, G, G)."""
        stacked = torch.cat([to_grid(f, self.grid) for f in reversed(features)], dim=1)
        return self.layers(stacked)
