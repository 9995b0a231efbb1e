"""Adapt position parameters of a checkpoint to another input size.

At input size S the image encoder works on an (S/16) x (S/16) token grid. Two kinds of
parameters depend on that grid:

- ``image_encoder.pos_embed``, (1, S/16, S/16, C): resampled bicubically (antialiased when
  shrinking), like a ViT position embedding.
- ``rel_pos_h`` / ``rel_pos_w`` of the *global*-attention blocks, (2 * S/16 - 1, head_dim):
  resampled linearly along the relative offset, the interpolation segment_anything's own
  ``get_rel_pos`` applies when a table does not fit.

Windowed blocks keep their (2 * window - 1, head_dim) tables: the window does not change with
the input size. Everything else must already match; the caller reports what does not.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models.sam_import import import_segment_anything

_image_encoder = import_segment_anything().modeling.image_encoder


def resize_pos_embed(pos_embed: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Resample an absolute position embedding (1, H0, W0, C) to (1, H, W, C), grid = (H, W)."""
    if tuple(pos_embed.shape[1:3]) == grid:
        return pos_embed
    channels_first = pos_embed.permute(0, 3, 1, 2).float()
    shrinking = grid[0] < pos_embed.shape[1] or grid[1] < pos_embed.shape[2]
    resized = F.interpolate(
        channels_first, size=grid, mode="bicubic", align_corners=False, antialias=shrinking
    )
    return resized.permute(0, 2, 3, 1).to(pos_embed.dtype).contiguous()


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """Resample a relative position table (L0, head_dim) to (length, head_dim), linearly."""
    if rel_pos.shape[0] == length:
        return rel_pos
    resized = F.interpolate(rel_pos.T.unsqueeze(0).float(), size=length, mode="linear")
    return resized.squeeze(0).T.to(rel_pos.dtype).contiguous()


def resizable_keys(model: nn.Module) -> set[str]:
    """State-dict names of ``model``'s parameters that depend on the input size.

    These are every ``pos_embed`` of an image encoder and the relative position tables of its
    global-attention blocks (``window_size == 0``), whatever prefix the encoder has.
    """
    keys = {name for name, _ in model.named_parameters() if name.endswith("pos_embed")}
    for name, module in model.named_modules():
        if isinstance(module, _image_encoder.Block) and module.window_size == 0:
            keys.update(f"{name}.attn.rel_pos_{axis}" for axis in ("h", "w"))
    return keys


def resize_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    target_shapes: Mapping[str, torch.Size],
    resizable: set[str],
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Resample the input-size dependent entries of ``state_dict`` to ``target_shapes``.

    An entry is resampled when its name is in ``resizable``, its shape differs from the
    target's and only the grid (pos_embed) or table length (rel_pos) differs; all other
    entries are returned as they are, so a real mismatch still shows when loading.

    Returns:
        The new state dict and the names of the entries that were resampled.
    """
    resized: dict[str, torch.Tensor] = dict(state_dict)
    names: list[str] = []
    for name in sorted(resizable & state_dict.keys() & target_shapes.keys()):
        found, wanted = state_dict[name], target_shapes[name]
        if found.shape == wanted or found.dim() != len(wanted):
            continue
        if found.dim() == 4 and found.shape[0] == 1 and found.shape[3] == wanted[3]:
            resized[name] = resize_pos_embed(found, (wanted[1], wanted[2]))
            names.append(name)
        elif found.dim() == 2 and found.shape[1] == wanted[1]:
            resized[name] = resize_rel_pos(found, wanted[0])
            names.append(name)
    return resized, names
