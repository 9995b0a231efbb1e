"""The encoder family names the blocks multi-level fusion takes, and encode returns them."""

from __future__ import annotations

import torch

from samseg.models import build_sam, get_encoder_family


def test_level_blocks_of_each_family() -> None:
    assert get_encoder_family("vit_b").level_blocks("vit_b") == (2, 5, 8)
    assert get_encoder_family("vit_h").level_blocks("vit_h") == (7, 15, 23)
    assert get_encoder_family("litemedsam").level_blocks("litemedsam") == (1, 3, 9)


def test_level_blocks_are_encodable_with_their_announced_shapes() -> None:
    family = get_encoder_family("vit_tiny")
    blocks = family.level_blocks("vit_tiny")
    network = build_sam("vit_tiny", 64, None, precision="fp32")
    with torch.no_grad():
        encoded = network.encode(torch.rand(1, 3, 64, 64) * 255, blocks)
    shapes = [(f.side, f.side, f.channels) for f in family.block_features("vit_tiny", 64)]
    assert [tuple(b.shape[1:]) for b in encoded.block_features] == [shapes[i] for i in blocks]
