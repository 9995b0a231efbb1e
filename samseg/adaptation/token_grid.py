"""A mask of the network-input frame mapped to the encoder's token grid, as P²SAM does it.

The official code centres the 0/255 mask (``M - 127.5``) and resizes it bilinearly
(``align_corners=False``, no antialiasing) to the G x G token grid; a token is foreground iff
the value is > 0. With stride s = S / G this samples each patch at its centre, so a token is
foreground iff more than half of its patch's central pixels are (not an area fraction; see
``shared/methods/p2sam.md`` §1.3). The grid side comes from the encoder (64 for SAM at 1024 and
for LiteMedSAM at 256), never from S / 16.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mask_to_token_grid(mask: torch.Tensor, grid: int) -> torch.Tensor:
    """(G, G) bool token mask of an (S, S) binary mask of the network-input frame.

    Args:
        mask: (S, S) bool or 0/1 mask.
        grid: G, the side of the encoder's token grid.
    """
    if mask.dim() != 2:
        raise ValueError(f"mask must be (S, S), found shape {tuple(mask.shape)}")
    centred = mask.float()[None, None] * 255 - 127.5
    sampled = F.interpolate(centred, size=(grid, grid), mode="bilinear", align_corners=False)
    return sampled[0, 0] > 0


def valid_region(size: int, rows: int, columns: int) -> torch.Tensor:
    """(S, S) bool: the pixels of an S x S input that hold image, not zero padding.

    Args:
        size: S.
        rows, columns: extent of the image in the input (top-left aligned; padding below and
            to the right, as samseg and SAM pad).
    """
    region = torch.zeros(size, size, dtype=torch.bool)
    region[:rows, :columns] = True
    return region
