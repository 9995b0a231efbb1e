"""Multi-class head shapes, batched decoding and the promptable interface."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from samseg.models import SamSegmenter

Images = Callable[..., torch.Tensor]
CLOSE = {"atol": 1e-4, "rtol": 1e-4}
"""fp32 rounding of differently blocked products; logits here reach magnitude ~10."""


@pytest.fixture
def model(tiny_model: Callable[..., SamSegmenter]) -> SamSegmenter:
    return tiny_model(num_classes=4)


def per_image_prompts(batch: int) -> dict[str, object]:
    """Different points (labels incl. padding), boxes and mask prompts for each image."""
    generator = torch.Generator().manual_seed(3)
    coords = 256 * torch.rand(batch, 3, 2, generator=generator)
    labels = torch.tensor([[1, 0, -1], [1, 1, 0], [0, 1, 1]])[:batch]
    corner = 100 * torch.rand(batch, 2, generator=generator)
    boxes = torch.cat([corner, corner + 100], dim=1)
    masks = torch.randn(batch, 1, 64, 64, generator=generator)
    return {"points": (coords, labels), "boxes": boxes, "mask_inputs": masks}


def image_slice(prompts: dict[str, object], index: int) -> dict[str, object]:
    """The prompts of image ``index`` alone."""
    coords, labels = prompts["points"]
    return {
        "points": (coords[index : index + 1], labels[index : index + 1]),
        "boxes": prompts["boxes"][index : index + 1],
        "mask_inputs": prompts["mask_inputs"][index : index + 1],
    }


def test_multiclass_shapes(model: SamSegmenter, make_images: Images) -> None:
    with torch.no_grad():
        output = model(make_images(2))
    assert output.low_res_logits.shape == (2, 4, 64, 64)
    assert output.logits.shape == (2, 4, 256, 256)
    assert output.logits.dtype == torch.float32
    assert model.num_classes == 4
    assert model.input_size == 256


def test_class_tokens_drive_class_logits_only(model: SamSegmenter, make_images: Images) -> None:
    with torch.no_grad():
        embeddings = model.encode(make_images(1)).image_embeddings
        box = torch.tensor([[20.0, 30.0, 120.0, 160.0]])
        classes = model.decode_classes(embeddings).low_res_logits
        prompted = model.predict_with_prompts(embeddings, boxes=box).low_res_logits
        model.mask_decoder.class_tokens.weight[2] += 1.0
        classes_after = model.decode_classes(embeddings).low_res_logits
        prompted_after = model.predict_with_prompts(embeddings, boxes=box).low_res_logits
    assert not torch.allclose(classes_after[:, 2], classes[:, 2])
    assert torch.equal(prompted_after, prompted)


@pytest.mark.parametrize("prompted", [False, True])
def test_batched_class_decoding_equals_per_image(
    model: SamSegmenter, make_images: Images, prompted: bool
) -> None:
    prompts = per_image_prompts(3) if prompted else {}
    with torch.no_grad():
        embeddings = model.encode(make_images(3)).image_embeddings
        batched = model.decode_classes(embeddings, **prompts)
        singles = [
            model.decode_classes(
                embeddings[index : index + 1], **(image_slice(prompts, index) if prompted else {})
            )
            for index in range(3)
        ]
    for index, single in enumerate(singles):
        torch.testing.assert_close(
            batched.low_res_logits[index : index + 1], single.low_res_logits, **CLOSE
        )
        torch.testing.assert_close(batched.logits[index : index + 1], single.logits, **CLOSE)
    assert not torch.allclose(batched.low_res_logits[0], batched.low_res_logits[1])


def test_batched_prompt_decoding_equals_per_image(model: SamSegmenter, make_images: Images) -> None:
    prompts = per_image_prompts(3)
    with torch.no_grad():
        embeddings = model.encode(make_images(3)).image_embeddings
        batched = model.predict_with_prompts(embeddings, **prompts)
        singles = [
            model.predict_with_prompts(embeddings[index : index + 1], **image_slice(prompts, index))
            for index in range(3)
        ]
    assert batched.low_res_logits.shape == (3, 1, 64, 64)
    assert batched.iou_predictions.shape == (3, 1)
    for index, single in enumerate(singles):
        torch.testing.assert_close(
            batched.low_res_logits[index : index + 1], single.low_res_logits, **CLOSE
        )
        torch.testing.assert_close(
            batched.iou_predictions[index : index + 1], single.iou_predictions, **CLOSE
        )


def test_prompt_kinds_and_multimask(model: SamSegmenter, make_images: Images) -> None:
    prompts = per_image_prompts(2)
    with torch.no_grad():
        embeddings = model.encode(make_images(2)).image_embeddings
        points_only = model.predict_with_prompts(embeddings, prompts["points"])
        mask_only = model.predict_with_prompts(embeddings, mask_inputs=prompts["mask_inputs"])
        multimask = model.predict_with_prompts(
            embeddings, boxes=prompts["boxes"], multimask_output=True
        )
    assert points_only.low_res_logits.shape == (2, 1, 64, 64)
    assert mask_only.low_res_logits.shape == (2, 1, 64, 64)
    assert multimask.low_res_logits.shape == (2, 3, 64, 64)
    assert multimask.iou_predictions.shape == (2, 3)
    assert not torch.allclose(points_only.low_res_logits, mask_only.low_res_logits)


def test_prompt_batch_must_match_images(model: SamSegmenter) -> None:
    embeddings = torch.zeros(2, 256, 16, 16)
    with pytest.raises(ValueError, match=r"boxes must hold one prompt set per image.*batch 2"):
        model.predict_with_prompts(embeddings, boxes=torch.zeros(3, 4))


def test_images_must_have_the_input_size(model: SamSegmenter) -> None:
    with pytest.raises(ValueError, match=r"\(B, 3, 256, 256\).*\(1, 3, 128, 128\)"):
        model(torch.zeros(1, 3, 128, 128))


def test_gradients_reach_the_encoder(model: SamSegmenter, make_images: Images) -> None:
    model.train()
    model(make_images(1)).logits.sum().backward()
    assert model.image_encoder.patch_embed.proj.weight.grad is not None
    assert model.mask_decoder.class_tokens.weight.grad.abs().sum() > 0
