"""LoRA layers, freezing policies and merged export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.models import (
    LoraSettings,
    SamSegmenter,
    apply_freezing,
    apply_lora,
    build_sam,
    format_parameter_table,
    has_lora,
    merge_lora,
    merged_state_dict,
)

DEPTH, DIM = 4, 96
Models = Callable[..., SamSegmenter]
Images = Callable[..., torch.Tensor]


def trainable(model: SamSegmenter) -> set[str]:
    return {name for name, parameter in model.named_parameters() if parameter.requires_grad}


def perturb_lora(model: SamSegmenter, seed: int = 0) -> None:
    """Give every lora_B (zero after initialisation) random values, respecting part masks."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".lora_B." in name:
                parameter.copy_(0.1 * torch.randn(parameter.shape, generator=generator))
        for module in model.modules():
            if hasattr(module, "part_mask"):
                module.weight.mul_(module.part_mask)


def test_lora_policy_trains_exactly_lora_prompt_encoder_and_decoder(tiny_model: Models) -> None:
    model = tiny_model()
    apply_lora(model, LoraSettings(rank=4, alpha=8.0))
    rows = apply_freezing(model, "lora")

    expected = {
        f"image_encoder.model.blocks.{block}.attn.qkv.lora_{part}.default.weight"
        for block in range(DEPTH)
        for part in ("A", "B")
    }
    expected |= {name for name, _ in model.named_parameters() if not name.startswith("image_")}
    assert trainable(model) == expected
    counts = {row.module: row for row in rows}
    assert counts["image_encoder"].trainable == DEPTH * (4 * DIM + 3 * DIM * 4)
    assert counts["mask_decoder"].trainable == counts["mask_decoder"].total
    assert counts["total"].trainable == sum(row.trainable for row in rows[:-1])
    assert "image_encoder" in format_parameter_table(rows)


def test_full_and_frozen_policies(tiny_model: Models) -> None:
    model = tiny_model()
    every = {name for name, _ in model.named_parameters()}
    apply_freezing(model, "frozen")
    assert trainable(model) == set()
    rows = apply_freezing(model, "full")
    assert trainable(model) == every
    assert rows[-1].trainable == rows[-1].total
    with pytest.raises(ValueError, match="apply_lora"):
        apply_freezing(model, "lora")
    with pytest.raises(ValueError, match="full, lora, decoder, frozen"):
        apply_freezing(model, "partial")  # type: ignore[arg-type]


def test_settings_reach_peft(tiny_model: Models) -> None:
    model = tiny_model()
    apply_lora(model, LoraSettings(rank=2, alpha=6.0, dropout=0.25, targets=("qkv", "proj")))
    attention = model.image_encoder.model.blocks[0].attn
    for layer in (attention.qkv, attention.proj):
        assert layer.r["default"] == 2
        assert layer.scaling["default"] == pytest.approx(3.0)
        assert layer.lora_dropout["default"].p == 0.25


def test_q_and_v_only_leave_k_untouched(tiny_model: Models, make_images: Images) -> None:
    model = tiny_model()
    original = model.image_encoder.blocks[1].attn.qkv.weight.detach().clone()
    apply_lora(model, LoraSettings(rank=3, alpha=3.0, targets=("q", "v")))
    rows = apply_freezing(model, "lora")
    # SAMed's count: A (r x dim) and B (dim x r) for q and for v, per block.
    assert rows[0].module == "image_encoder"
    assert rows[0].trainable == DEPTH * 2 * (3 * DIM + DIM * 3)
    qkv = model.image_encoder.model.blocks[1].attn.qkv
    assert qkv.lora_B["default"].weight.shape == (3 * DIM, 6)
    assert qkv.scaling["default"] == pytest.approx(1.0)

    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=0.05, weight_decay=0.1
    )
    model.train()
    for _ in range(2):
        optimizer.zero_grad()
        model(make_images(1)).logits.square().mean().backward()
        optimizer.step()

    lora_b = qkv.lora_B["default"].weight.detach()
    assert lora_b[:DIM, :3].abs().sum() > 0
    assert lora_b[2 * DIM :, 3:].abs().sum() > 0
    assert torch.count_nonzero(lora_b[DIM : 2 * DIM]) == 0
    assert torch.count_nonzero(lora_b[:DIM, 3:]) == 0
    assert torch.count_nonzero(lora_b[2 * DIM :, :3]) == 0

    merge_lora(model)
    delta = model.image_encoder.blocks[1].attn.qkv.weight.detach() - original
    assert torch.count_nonzero(delta[DIM : 2 * DIM]) == 0
    assert delta[:DIM].abs().sum() > 0
    assert delta[2 * DIM :].abs().sum() > 0


@pytest.mark.parametrize("targets", [("qkv",), ("q", "v", "proj")])
def test_merged_export_loads_into_plain_model(
    tmp_path: Path, tiny_model: Models, make_images: Images, targets: tuple[str, ...]
) -> None:
    images = make_images(2)
    model = tiny_model()
    apply_lora(model, LoraSettings(rank=4, alpha=4.0, targets=targets))
    perturb_lora(model)
    with torch.no_grad():
        expected = model(images).low_res_logits
        unmerged = tiny_model()(images).low_res_logits

    exported = merged_state_dict(model)
    assert has_lora(model)
    assert not any("lora" in name or "base_layer" in name for name in exported)
    plain = tiny_model(seed=5)
    plain.load_state_dict(exported)
    path = tmp_path / "checkpoint_final.pth"
    torch.save({"network_weights": exported, "trainer_name": "SAMLoRATrainer"}, path)
    rebuilt = build_sam("vit_tiny", 256, path, precision="fp32")
    with torch.no_grad():
        got = plain(images).low_res_logits
        got_rebuilt = rebuilt(images).low_res_logits

    assert not torch.allclose(expected, unmerged)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got_rebuilt, expected, atol=1e-4, rtol=1e-4)


def test_lora_checkpoint_needs_lora_settings(
    tmp_path: Path, tiny_model: Models, make_images: Images
) -> None:
    settings = LoraSettings(rank=2, targets=("q", "v"))
    model = tiny_model()
    apply_lora(model, settings)
    perturb_lora(model)
    path = tmp_path / "checkpoint_latest.pth"
    torch.save({"network_weights": model.state_dict()}, path)

    with pytest.raises(SamsegInputError, match="holds LoRA layers"):
        build_sam("vit_tiny", 256, path)
    resumed = build_sam("vit_tiny", 256, path, lora=settings, precision="fp32")
    images = make_images(1)
    with torch.no_grad():
        torch.testing.assert_close(resumed(images).logits, model(images).logits)


@pytest.mark.parametrize(
    "settings",
    [
        {"targets": ("qkv", "q")},
        {"targets": ("mlp",)},
        {"targets": ()},
        {"rank": 0},
        {"dropout": 1.0},
    ],
)
def test_invalid_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="LoRA"):
        LoraSettings(**settings)


def test_lora_twice_and_merge_without_lora(tiny_model: Models) -> None:
    model = tiny_model()
    with pytest.raises(ValueError, match="no LoRA"):
        merge_lora(model)
    apply_lora(model, LoraSettings())
    with pytest.raises(ValueError, match="already has LoRA"):
        apply_lora(model, LoraSettings())
