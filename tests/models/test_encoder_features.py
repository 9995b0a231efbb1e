"""Intermediate block outputs of the image encoder."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from samseg.models import SamSegmenter


def test_block_features_shapes_and_order(
    tiny_model: Callable[..., SamSegmenter], make_images: Callable[..., torch.Tensor]
) -> None:
    model = tiny_model(input_size=512)
    images = make_images(2, 512)
    encoder = model.image_encoder
    with torch.no_grad():
        neck, blocks = model.encode(images, return_blocks=(3, 0, 2))
        normalised = model.preprocess(images)
        plain = encoder(normalised)
        first = encoder.blocks[0](encoder.patch_embed(normalised) + encoder.pos_embed)
        # Block 2's output through block 3 and the neck gives the neck output.
        resumed = encoder.neck(encoder.blocks[3](blocks[2]).permute(0, 3, 1, 2))

    assert neck.shape == (2, 256, 32, 32)
    assert [tuple(block.shape) for block in blocks] == [(2, 32, 32, 96)] * 3
    assert torch.equal(neck, plain)
    assert torch.equal(blocks[1], first)
    assert torch.equal(encoder.neck(blocks[0].permute(0, 3, 1, 2)), neck)
    assert torch.equal(resumed, neck)
    assert not torch.allclose(blocks[1], blocks[2])


def test_no_blocks_requested(
    tiny_model: Callable[..., SamSegmenter], make_images: Callable[..., torch.Tensor]
) -> None:
    with torch.no_grad():
        encoded = tiny_model().encode(make_images(1))
    assert encoded.image_embeddings.shape == (1, 256, 16, 16)
    assert encoded.block_features == []


def test_block_index_out_of_range(tiny_model: Callable[..., SamSegmenter]) -> None:
    with pytest.raises(ValueError, match=r"\[0, 4\).*\[4\]"):
        tiny_model().encode(torch.zeros(1, 3, 256, 256), return_blocks=(1, 4))
