"""ProMISe's network: zero IPS is stock SAM, manual prompts with and without IPS tokens, the
presence head, the kind's round trip, shapes and the APM's gradient path."""

from __future__ import annotations

import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.models import import_segment_anything
from samseg.models.network_kinds import build_network
from samseg.models.promise import (
    ABSENT_LOGIT,
    ProMISeNetwork,
    ProMISeSettings,
    ProMISeSpec,
    apm_blocks,
)
from samseg.models.spec import NetworkSpec

SIZE = 64
SMALL = {
    "cnn_widths": (8, 8, 16, 16),
    "cnn_depths": (1, 1, 1, 1),
    "fusion_channels": 16,
    "transformer_width": 16,
    "transformer_heads": 2,
    "pae_hidden": 32,
}


def promise(tiny_model, classes: int = 1, **settings: object) -> ProMISeNetwork:
    settings.setdefault("blocks", apm_blocks("vit_tiny") if settings.get("apm", "cnn") else ())
    torch.manual_seed(3)
    sam = tiny_model(input_size=SIZE, num_classes=classes + 1)
    options = ProMISeSettings(foreground_classes=classes, **{**SMALL, **settings})
    return ProMISeSpec(
        NetworkSpec(model_type="vit_tiny", input_size=SIZE, num_classes=classes + 1), options
    ).wrap(sam)


def zero_ips(network: ProMISeNetwork) -> None:
    for head in network.heads:
        last = head.pae.mlp[-1]
        torch.nn.init.zeros_(last.weight)
        torch.nn.init.zeros_(last.bias)


def stock_decoder(network: ProMISeNetwork) -> torch.nn.Module:
    """segment_anything's own MaskDecoder holding the backbone's promptable weights."""
    modeling = import_segment_anything().modeling
    decoder = modeling.MaskDecoder(
        transformer_dim=256,
        transformer=modeling.TwoWayTransformer(
            depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8
        ),
        num_multimask_outputs=3,
        iou_head_depth=3,
        iou_head_hidden_dim=256,
    )
    result = decoder.load_state_dict(network.sam.mask_decoder.state_dict(), strict=False)
    assert not result.missing_keys
    assert all(key.startswith("class_") for key in result.unexpected_keys)
    return decoder.eval()


def manual_prompts() -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    generator = torch.Generator().manual_seed(5)
    points = (SIZE * torch.rand(1, 3, 2, generator=generator), torch.tensor([[1, 0, 1]]))
    return points, torch.tensor([[8.0, 10.0, 40.0, 50.0]])


@torch.no_grad()
def test_zero_ips_decodes_as_the_stock_segment_anything_decoder(tiny_model, make_images):
    network = promise(tiny_model).eval()
    zero_ips(network)
    embeddings = network.encode(make_images(1, SIZE)).image_embeddings
    points, box = manual_prompts()
    sam = network.sam
    sparse, dense = sam.prompt_encoder(points=points, boxes=box, masks=None)
    expected, expected_iou = stock_decoder(network)(
        image_embeddings=embeddings,
        image_pe=sam.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=True,
    )
    found = network.predict_with_prompts(embeddings, points, box, multimask_output=True)
    torch.testing.assert_close(found.low_res_logits, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(found.iou_predictions, expected_iou, atol=1e-5, rtol=0)
    given = (points[0][:, None], points[1][:, None])
    segmented = network.segment(embeddings, [], points=given).low_res_logits
    sparse, dense = sam.prompt_encoder(points=points, boxes=None, masks=None)
    first, _ = stock_decoder(network)(
        embeddings, sam.prompt_encoder.get_dense_pe(), sparse, dense, True
    )
    torch.testing.assert_close(segmented[:, 0], first[:, 0], atol=1e-5, rtol=0)


@torch.no_grad()
def test_manual_prompts_run_with_the_ips_tokens_and_with_plain_sam(tiny_model, make_images):
    network = promise(tiny_model, classes=2).eval()
    embeddings = network.encode(make_images(2, SIZE)).image_embeddings
    points, box = manual_prompts()
    points = (points[0].expand(2, -1, -1), points[1].expand(2, -1))
    boxes = box.expand(2, -1)
    plain = network.sam.predict_with_prompts(embeddings, points, boxes)
    without = network.predict_with_prompts(embeddings, points, boxes, use_ips=False)
    assert torch.equal(without.low_res_logits, plain.low_res_logits)
    class_one = network.predict_with_prompts(
        embeddings, points, boxes, classes=torch.tensor([1, 1])
    )
    class_zero = network.predict_with_prompts(
        embeddings, points, boxes, classes=torch.tensor([0, 0])
    )
    with pytest.raises(ValueError, match="give classes"):
        network.predict_with_prompts(embeddings, points, boxes)
    with pytest.raises(ValueError, match=r"indices in 0 \.\. 1"):
        network.predict_with_prompts(embeddings, points, boxes, classes=torch.tensor([0, 2]))
    assert class_one.low_res_logits.shape == (2, 1, SIZE // 4, SIZE // 4)
    assert not torch.allclose(class_one.low_res_logits, plain.low_res_logits)
    assert not torch.allclose(class_one.low_res_logits, class_zero.low_res_logits)
    tokens = network.ips_tokens(embeddings)
    shifted = network.sam.predict_with_prompts(
        embeddings, points, boxes, mask_token_shift=tokens[:, 1]
    )
    assert torch.equal(class_one.low_res_logits, shifted.low_res_logits)


@torch.no_grad()
def test_an_absent_class_gets_no_mask(tiny_model, make_images):
    network = promise(tiny_model, classes=2, presence_head=True).eval()
    presence = network.heads[0].apm.presence
    torch.nn.init.zeros_(presence.weight)
    presence.bias.copy_(torch.tensor([5.0, -5.0]))
    images = make_images(2, SIZE)
    logits = network(images)
    assert logits.shape == (2, 3, SIZE, SIZE)
    assert (logits[:, 2] == ABSENT_LOGIT).all()
    assert not (logits[:, 1] == ABSENT_LOGIT).any()
    assert (logits[:, 0] == 0).all()
    assert not (logits.argmax(1) == 2).any()


def test_shapes_slots_and_the_apm_gradient_path(tiny_model, make_images):
    network = promise(tiny_model, classes=2, positive_points=2, negative_points=3)
    network.train()
    assert not network.sam.training and network.heads.training
    encoded = network.encode(make_images(2, SIZE), network.settings.blocks)
    assert not encoded.image_embeddings.requires_grad
    assert not any(f.requires_grad for f in encoded.block_features)
    output = network.segment(encoded.image_embeddings, encoded.block_features)
    coordinates, labels = output.points
    assert coordinates.shape == (2, 2, 5, 2) and output.low_res_logits.shape == (2, 2, 16, 16)
    assert ((coordinates > 0) & (coordinates < SIZE)).all()
    assert labels[0, 0].tolist() == [1, 1, 0, 0, 0]
    coordinates.retain_grad()
    output.low_res_logits.sum().backward()
    assert coordinates.grad is not None and coordinates.grad.abs().sum() > 0
    for name, parameter in network.heads.named_parameters():
        assert parameter.grad is not None, name
    with torch.no_grad():
        network.eval()
        batched = network.segment(encoded.image_embeddings, encoded.block_features)
        for index in range(2):
            alone = network.segment(
                encoded.image_embeddings[index : index + 1],
                [f[index : index + 1] for f in encoded.block_features],
            )
            torch.testing.assert_close(
                alone.low_res_logits[0], batched.low_res_logits[index], atol=1e-4, rtol=1e-4
            )
    box = promise(tiny_model, apm_prompt="box", apm="transformer")
    boxed = box.segment(encoded.image_embeddings, encoded.block_features)
    assert boxed.points is None and boxed.boxes.shape == (2, 1, 4)
    assert (boxed.boxes[..., :2] <= boxed.boxes[..., 2:]).all()


def test_the_promise_kind_rebuilds_the_network_from_its_description(tiny_model):
    network = promise(tiny_model, classes=2, class_conditional=False, apm="transformer")
    spec = ProMISeSpec(
        NetworkSpec(model_type="vit_tiny", input_size=SIZE, num_classes=3), network.settings
    )
    description = spec.description()
    assert description.kind == "promise"
    rebuilt = build_network(description, "test.pth")
    assert isinstance(rebuilt, ProMISeNetwork) and len(rebuilt.heads) == 2
    rebuilt.load_state_dict(network.state_dict())
    broken = {**description.options, "promise": {**description.options["promise"], "blocks": [9]}}
    with pytest.raises(SamsegInputError, match=r"test\.pth: .*blocks 0 \.\. 3"):
        build_network(type(description)("promise", broken), "test.pth")
    with pytest.raises(SamsegInputError, match="an APM or IPS"):
        ProMISeSettings(apm=None, ips=False)
