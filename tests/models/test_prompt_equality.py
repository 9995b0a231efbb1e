"""SAM's promptable interface equals segment_anything's for points, mask prompts, boxes with
points, and multimask output (boxes alone: test_official_checkpoint.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from samseg.models import build_sam, import_segment_anything


@pytest.fixture(scope="module")
def networks(official_vit_b: Path) -> tuple[torch.nn.Module, torch.nn.Module]:
    """segment_anything's vit_b and samseg's, both from the same official-format file."""
    reference = import_segment_anything().build_sam.build_sam_vit_b(checkpoint=official_vit_b)
    ours = build_sam("vit_b", 1024, official_vit_b, num_classes=3, precision="fp32")
    return reference.eval(), ours.eval()


def prompts() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    return {
        "coords": 1024 * torch.rand(1, 3, 2, generator=generator),
        "labels": torch.tensor([[1, 0, 1]]),
        "box": torch.tensor([[100.0, 150.0, 600.0, 700.0]]),
        "mask": 4 * torch.randn(1, 1, 256, 256, generator=generator),
    }


CASES = {
    "points": ({"points"}, False),
    "points, multimask": ({"points"}, True),
    "mask prompt": ({"mask"}, False),
    "points and mask prompt, multimask": ({"points", "mask"}, True),
    "box and points, multimask": ({"box", "points"}, True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_prompted_masks_equal_segment_anything(networks, case):
    reference, ours = networks
    kinds, multimask = CASES[case]
    given = prompts()
    points = (given["coords"], given["labels"]) if "points" in kinds else None
    box = given["box"] if "box" in kinds else None
    mask = given["mask"] if "mask" in kinds else None
    embeddings = torch.randn(1, 256, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        sparse, dense = reference.prompt_encoder(points=points, boxes=box, masks=mask)
        expected_masks, expected_iou = reference.mask_decoder(
            image_embeddings=embeddings,
            image_pe=reference.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask,
        )
        found = ours.predict_with_prompts(
            embeddings, points=points, boxes=box, mask_inputs=mask, multimask_output=multimask
        )
    assert found.low_res_logits.shape == (1, 3 if multimask else 1, 256, 256)
    assert torch.equal(found.low_res_logits, expected_masks)
    assert torch.equal(found.iou_predictions, expected_iou)
