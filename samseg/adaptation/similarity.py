"""Cosine-similarity maps of part prototypes on a target image, and the points they give.

Each prototype's map is computed on its own, in float64: its vector-matrix product with the
target's L2-normalised tokens (256, G*G) and its upsampling. A prototype's map then does not
depend on which prototypes are computed with it, so a retrieval candidate is exactly the
``fixed`` mode's result with its counts. (Stacked, the product and the upsampling round
differently with the stack's size, in float32 everywhere and in float64 with MKL on AVX-512
CPUs; on the plateaus that upsampling makes at the borders that moved argmax points by
pixels.) The maps are upsampled as the official code does before any argmax: x4 bilinear to
the low-resolution logit side 4G, then bilinear to the input side S (one step when 4G = S, as
for LiteMedSAM); bilinear never samples a grid node, so an argmax on the token grid would pick
other points. Points are (x, y) pixels of the S x S network input, chosen inside the image
(padding excluded).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def similarity_maps(
    prototypes: torch.Tensor, target_embedding: torch.Tensor, input_size: int
) -> torch.Tensor:
    """(P, S, S) float64 cosine-similarity maps of (P, 256) unit prototypes on a (256, G, G) target.

    Args:
        prototypes: (P, 256) L2-normalised prototypes.
        target_embedding: (256, G, G) raw target embedding.
        input_size: S.
    """
    grid = target_embedding.shape[-1]
    tokens = F.normalize(target_embedding.flatten(1).double(), dim=0)
    maps = []
    for prototype in prototypes.to(tokens):
        one = (prototype @ tokens).view(1, 1, grid, grid)
        one = F.interpolate(one, scale_factor=4, mode="bilinear", align_corners=False)
        if one.shape[-1] != input_size:
            one = F.interpolate(one, size=(input_size, input_size), mode="bilinear")
        maps.append(one[0, 0])
    return torch.stack(maps)


def extreme_points(maps: torch.Tensor, valid: torch.Tensor, *, largest: bool) -> torch.Tensor:
    """(P, 2) float (x, y) of each map's maximum (or minimum) inside ``valid``.

    Args:
        maps: (P, S, S) similarity maps.
        valid: (S, S) bool pixels holding image.
        largest: maximum (True) or minimum (False); ties: the first pixel in row-major order.
    """
    fill = float("-inf") if largest else float("inf")
    masked = torch.where(valid.to(maps.device), maps, torch.full_like(maps, fill)).flatten(1)
    index = masked.argmax(dim=1) if largest else masked.argmin(dim=1)
    size = maps.shape[-1]
    return torch.stack([index % size, index // size], dim=1).float()
