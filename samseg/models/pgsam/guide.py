"""PG-SAM's semantic guide matrix G: class text embeddings aligned with the image embedding.

Two modes:

- :class:`ClasswiseGuide` (``classwise``, samseg's default; a samseg design, not the paper's
  formula): one cosine-similarity map per class between the projected class text and the
  image embedding, a softmax over classes (the per-organ heatmaps), and G built from the
  heatmaps: their text-weighted sum plus a 1x1 convolution of the heatmap stack (which class
  is where), layer-normalised over channels.
- :class:`ReleasedGuide` (``released``): the official code's formula, reproduced for
  reproduction and ablation only. Text enters it as one cosine per image, which the two
  normalisations at its end reduce to its sign: G keeps no class axis and (up to an eps
  residue) no text magnitude. It is inert as a text prior; documentation/pgsam.md explains.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple, get_args

import torch
import torch.nn.functional as F
from torch import nn

GuideMode = Literal["classwise", "released"]
GUIDE_MODES: tuple[str, ...] = get_args(GuideMode)


class GuideOutput(NamedTuple):
    """A guide and what it was made from."""

    guide: torch.Tensor
    """(B, 256, G, G) the semantic guide matrix G (G: the embedding grid)."""
    heatmaps: torch.Tensor | None
    """(B, C, G, G) per-class heatmaps (softmax over classes), ``classwise`` only."""
    similarity: torch.Tensor
    """``classwise``: (B, C, G, G) cosine / temperature; ``released``: (B,) the image-text
    cosine, the only text-dependent quantity."""


class ClasswiseGuide(nn.Module):
    """``classwise`` guide: per-class similarity maps -> heatmaps -> G.

    q = W_t T (C, 256); S_k = <n(E_ij), n(q_k)> / tau (learnable tau, clamped to [0.01, 1]);
    A = softmax_k S; G = LN_c(sum_k A_k q_k + W_a A).
    """

    def __init__(
        self, *, text_dim: int, num_classes: int, channels: int = 256, temperature: float = 0.07
    ) -> None:
        super().__init__()
        self.text_projection = nn.Linear(text_dim, channels)
        self.layout = nn.Conv2d(num_classes, channels, kernel_size=1)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))
        self.norm = nn.LayerNorm(channels)

    @property
    def temperature(self) -> torch.Tensor:
        """tau, clamped to [0.01, 1]."""
        return self.log_temperature.exp().clamp(0.01, 1.0)

    def forward(self, embeddings: torch.Tensor, text: torch.Tensor) -> GuideOutput:
        """
        Args:
            embeddings: (B, 256, G, G) image embedding.
            text: (C, D) class text embeddings, background first.

        Returns:
            G (B, 256, G, G), heatmaps (B, C, G, G), similarity logits (B, C, G, G).
        """
        queries = self.text_projection(text)
        similarity = torch.einsum(
            "bchw,kc->bkhw", F.normalize(embeddings, dim=1), F.normalize(queries, dim=1)
        )
        similarity = similarity / self.temperature
        heatmaps = similarity.softmax(dim=1)
        mixed = torch.einsum("bkhw,kc->bchw", heatmaps, queries) + self.layout(heatmaps)
        guide = self.norm(mixed.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return GuideOutput(guide, heatmaps, similarity)


class ReleasedGuide(nn.Module):
    """``released`` guide: the official formula (inert as a text prior; see the module doc).

    I = n(image feature), T = n(text), c = <I, T> (B,); s = sigmoid(W_s I) (B, G*G);
    w = c s / 10; F the flattened embedding, F^ = F / ||F||_c; A = softmax_m(F^T F^ / sqrt(256))
    with the softmax over the last axis m; Wf[:, :, m] = sum_l F[:, :, l] A[l, m];
    G0 = (F + Wf) / 2 * w; G = per-channel spatial standardisation (unbiased std + 1e-6) of
    the per-pixel channel layer norm (no affine, eps 1e-5) of G0.

    Two inputs differ from the release, which has neither here: the image feature is a
    learned projection of the pooled SAM embedding (the release: CLIP's image tower on the
    raw slice), and the one text per image is the mean of the class embeddings (the release:
    one text per training slice, one constant string at test).
    """

    def __init__(self, *, text_dim: int, grid: int, channels: int = 256) -> None:
        super().__init__()
        self.grid = grid
        self.channels = channels
        self.image_projection = nn.Linear(channels, text_dim)
        self.spatial_weights = nn.Linear(text_dim, grid * grid)

    def forward(self, embeddings: torch.Tensor, text: torch.Tensor) -> GuideOutput:
        """
        Args:
            embeddings: (B, 256, G, G) image embedding, G the grid this guide was built for.
            text: (C, D) class text embeddings.

        Returns:
            G (B, 256, G, G), no heatmaps, and the (B,) image-text cosine.
        """
        batch, channels, height, width = embeddings.shape
        image = F.normalize(self.image_projection(embeddings.mean(dim=(2, 3))), dim=1)
        sentence = F.normalize(text.mean(dim=0, keepdim=True), dim=1).expand(batch, -1)
        cosine = torch.einsum("bc,bc->b", image, sentence)
        weights = cosine[:, None] * torch.sigmoid(self.spatial_weights(image)) / 10
        flat = embeddings.flatten(2)
        unit = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)
        attention = (unit.transpose(1, 2) @ unit / math.sqrt(channels)).softmax(dim=-1)
        weighted = torch.einsum("bcl,blm->bcm", flat, attention)
        combined = (flat + weighted) / 2 * weights[:, None, :]
        guide = combined.view(batch, channels, height, width)
        guide = F.layer_norm(guide.permute(0, 2, 3, 1), (channels,), eps=1e-5)
        guide = guide.permute(0, 3, 1, 2)
        mean = guide.mean(dim=(2, 3), keepdim=True)
        std = guide.std(dim=(2, 3), keepdim=True)
        return GuideOutput((guide - mean) / (std + 1e-6), None, cosine)
