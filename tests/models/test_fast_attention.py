"""The SDPA attention path against segment_anything's stock attention."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from samseg.models import (
    SamSegmenter,
    SdpaAttention,
    import_segment_anything,
    use_fast_attention,
    uses_fast_attention,
)

image_encoder = import_segment_anything().modeling.image_encoder


@pytest.mark.parametrize(("grid", "window"), [((16, 16), 0), ((10, 10), 10), ((32, 32), 0)])
def test_sdpa_attention_matches_stock_with_gradients(grid: tuple[int, int], window: int) -> None:
    torch.manual_seed(0)
    table_size = grid if window == 0 else (window, window)
    stock = image_encoder.Attention(64, num_heads=4, use_rel_pos=True, input_size=table_size)
    with torch.no_grad():
        stock.rel_pos_h.normal_()
        stock.rel_pos_w.normal_()
    fast = SdpaAttention(64, num_heads=4, use_rel_pos=True, input_size=table_size)
    fast.load_state_dict(stock.state_dict())
    x = torch.randn(2, *grid, 64)

    expected, got = stock(x), fast(x)
    assert (expected - got).abs().max() < 1e-4
    expected.square().sum().backward()
    got.square().sum().backward()
    for name in ("qkv.weight", "rel_pos_h", "rel_pos_w"):
        stock_grad = stock.get_parameter(name).grad
        fast_grad = fast.get_parameter(name).grad
        assert (stock_grad - fast_grad).abs().max() < 1e-4 * stock_grad.abs().max()


@pytest.mark.parametrize("input_size", [256, 512])
def test_fast_encoder_matches_stock(
    tiny_model: Callable[..., SamSegmenter],
    make_images: Callable[..., torch.Tensor],
    input_size: int,
) -> None:
    model = tiny_model(input_size=input_size, fast_attention=False)
    names = list(model.state_dict())
    images = make_images(2, input_size)
    assert not uses_fast_attention(model.image_encoder)
    with torch.no_grad():
        stock = model.encode(images, return_blocks=(0, 1)).block_features[-1]
        stock_logits = model(images).low_res_logits
        assert use_fast_attention(model.image_encoder) == 4
        fast = model.encode(images, return_blocks=(0, 1)).block_features[-1]
        fast_logits = model(images).low_res_logits

    assert uses_fast_attention(model.image_encoder)
    assert list(model.state_dict()) == names
    assert (stock - fast).abs().max() < 1e-4
    assert (stock_logits - fast_logits).abs().max() < 1e-4
    use_fast_attention(model.image_encoder, enabled=False)
    assert not uses_fast_attention(model.image_encoder)


def test_bf16_autocast_on_cpu(
    tiny_model: Callable[..., SamSegmenter], make_images: Callable[..., torch.Tensor]
) -> None:
    images = make_images(1)
    model = tiny_model()
    with torch.no_grad():
        reference = model(images).low_res_logits
        model.precision = "bf16"
        low_precision = model(images).low_res_logits
    assert low_precision.dtype == torch.float32
    assert not torch.equal(low_precision, reference)
    relative = (low_precision - reference).norm() / reference.norm()
    assert relative < 0.05
    with pytest.raises(ValueError, match="precision must be one of"):
        model.precision = "fp8"
