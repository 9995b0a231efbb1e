"""The CNN auto-prompting body: fused features -> a ResNet-34-style network -> one vector.

The official APM replaces ResNet-34's stem by a 3x3 convolution on the 256-channel fused map
and keeps its four stages of basic residual blocks; the pooled 512-vector feeds the
coordinate head. Widths and depths are settings (tests use a small body).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from samseg.models.promise.fusion import MultiLevelFusion


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a residual (a 1x1 conv-BN where the shape changes)."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_channels == channels
            else nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class CnnPromptBody(nn.Module):
    """Fusion, stem (3x3 conv-BN-ReLU, 3x3 max-pool stride 2), stages, global average pool.

    Args:
        in_channels: channels of the fused encoder levels (shallow to deep).
        grid: G, the embedding grid the levels are resampled to.
        fusion_channels: channels of the fused map.
        widths, depths: channels and blocks per stage; stages after the first halve the side.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        grid: int,
        *,
        fusion_channels: int,
        widths: Sequence[int],
        depths: Sequence[int],
    ) -> None:
        super().__init__()
        self.fusion = MultiLevelFusion(in_channels, grid, fusion_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(fusion_channels, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        stages, previous = [], widths[0]
        for index, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            blocks = [
                BasicBlock(previous if b == 0 else width, width, 2 if index and b == 0 else 1)
                for b in range(depth)
            ]
            stages.append(nn.Sequential(*blocks))
            previous = width
        self.stages = nn.Sequential(*stages)
        self.out_features = previous

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """(B, side_l, side_l, C_l) block outputs -> (B, widths[-1]) pooled vector."""
        x = self.stages(self.stem(self.fusion(features)))
        return x.mean(dim=(2, 3))


class CnnAutoPrompter(nn.Module):
    """The CNN APM: pooled vector -> coordinates of every slot in (0, 1), and presence logits.

    Args:
        body: the :class:`CnnPromptBody`.
        classes: n, classes predicted.
        slots: Q, coordinate pairs per class (K points, or 2 box corners).
        presence: add the presence head.
    """

    def __init__(self, body: CnnPromptBody, classes: int, slots: int, presence: bool) -> None:
        super().__init__()
        self.body = body
        self.classes, self.slots = classes, slots
        self.coordinates = nn.Linear(body.out_features, classes * slots * 2)
        self.presence = nn.Linear(body.out_features, classes) if presence else None

    def forward(self, features: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Block outputs -> (B, n, Q, 2) sigmoid coordinates (x, y) in (0, 1) of the input
        side, and (B, n) presence logits or ``None``."""
        vector = self.body(features)
        unit = torch.sigmoid(self.coordinates(vector)).unflatten(1, (self.classes, self.slots, 2))
        return unit, None if self.presence is None else self.presence(vector)
