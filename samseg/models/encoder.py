"""Run SAM's image encoder and keep chosen intermediate block outputs.

PG-SAM fuses features of several encoder blocks with its semantic guide, and ProMISe predicts
point prompts from them, so the encoder must hand out more than its neck output. This runs
the same modules, in the same order, as ``ImageEncoderViT.forward``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def encode_image(
    image_encoder: nn.Module, images: torch.Tensor, return_blocks: Sequence[int] = ()
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Encode normalised images, returning the neck output and chosen block outputs.

    Args:
        image_encoder: segment_anything's ``ImageEncoderViT`` (possibly with LoRA layers).
        images: (B, 3, S, S) normalised images, S the encoder's input size.
        return_blocks: indices (0-based, in [0, depth)) of the blocks whose outputs to return,
            in the order wanted.

    Returns:
        ``(neck, blocks)``: the image embedding (B, 256, S/16, S/16) and one
        (B, S/16, S/16, embed_dim) token grid per entry of ``return_blocks``.

    Raises:
        ValueError: a block index out of range.
    """
    depth = len(image_encoder.blocks)
    invalid = [index for index in return_blocks if not 0 <= index < depth]
    if invalid:
        raise ValueError(
            f"return_blocks must be block indices in [0, {depth}) for this encoder, "
            f"found {invalid}."
        )
    wanted = set(return_blocks)
    kept: dict[int, torch.Tensor] = {}
    x = image_encoder.patch_embed(images)
    if image_encoder.pos_embed is not None:
        x = x + image_encoder.pos_embed
    for index, block in enumerate(image_encoder.blocks):
        x = block(x)
        if index in wanted:
            kept[index] = x
    neck = image_encoder.neck(x.permute(0, 3, 1, 2))
    return neck, [kept[index] for index in return_blocks]
