"""Official-format vit_b checkpoints: identical to segment_anything at 1024, resized below."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from samseg.models import build_sam, import_segment_anything, use_fast_attention
from samseg.models.resize import resize_pos_embed

GLOBAL_BLOCKS = (2, 5, 8, 11)


def test_official_checkpoint_matches_segment_anything_at_1024(
    official_vit_b: Path, make_images: Callable[..., torch.Tensor]
) -> None:
    """Same weights and outputs as segment_anything's own builder and ``Sam.forward``.

    A stock vit_b forward at 1024 takes ~25 s on two CPU cores, so both networks take the
    SDPA attention path (compared with the stock path in test_fast_attention.py); with the
    same attention code, identical weights must give bit-identical outputs.
    """
    reference = import_segment_anything().build_sam.build_sam_vit_b(checkpoint=official_vit_b)
    model = build_sam("vit_b", 1024, official_vit_b, num_classes=3, precision="fp32")
    ours = model.state_dict()
    for name, tensor in reference.state_dict().items():
        assert torch.equal(ours[name], tensor), name
    use_fast_attention(reference.image_encoder)

    image = make_images(1, 1024)
    box = torch.tensor([[100.0, 150.0, 600.0, 700.0]])
    with torch.no_grad():
        (expected,) = reference(
            [{"image": image[0], "original_size": (1024, 1024), "boxes": box}],
            multimask_output=False,
        )
        embeddings = model.encode(image).image_embeddings
        prompted = model.predict_with_prompts(embeddings, boxes=box)
        classes = model.decode_classes(embeddings)

    assert torch.equal(prompted.low_res_logits, expected["low_res_logits"])
    assert torch.equal(prompted.iou_predictions, expected["iou_predictions"])
    assert prompted.low_res_logits.shape == (1, 1, 256, 256)
    assert classes.low_res_logits.shape == (1, 3, 256, 256)
    assert classes.logits.shape == (1, 3, 1024, 1024)


@pytest.mark.parametrize("size", [512, 256])
def test_official_checkpoint_resized(
    official_vit_b: Path, size: int, make_images: Callable[..., torch.Tensor]
) -> None:
    state = torch.load(official_vit_b, weights_only=True)
    model = build_sam("vit_b", size, official_vit_b, precision="fp32")
    encoder = model.image_encoder
    grid = size // 16

    assert encoder.pos_embed.shape == (1, grid, grid, 768)
    expected_pos = resize_pos_embed(state["image_encoder.pos_embed"], (grid, grid))
    assert torch.equal(encoder.pos_embed.data, expected_pos)
    for index, block in enumerate(encoder.blocks):
        table = state[f"image_encoder.blocks.{index}.attn.rel_pos_h"]
        if index in GLOBAL_BLOCKS:
            assert block.attn.rel_pos_h.shape == (2 * grid - 1, 64)
            # The zero-offset row sits in the middle of both tables and is kept exactly.
            torch.testing.assert_close(block.attn.rel_pos_h[grid - 1], table[63])
        else:
            assert torch.equal(block.attn.rel_pos_h.data, table)
    for name in ("image_encoder.neck.0.weight", "mask_decoder.iou_token.weight"):
        assert torch.equal(model.state_dict()[name], state[name])

    with torch.no_grad():
        output = model(make_images(1, size))
    assert output.low_res_logits.shape == (1, 2, size // 4, size // 4)
    assert output.logits.shape == (1, 2, size, size)
    assert torch.isfinite(output.logits).all()
