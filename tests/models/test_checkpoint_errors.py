"""Checkpoint layouts that load, and the errors for files that do not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.models import SamSegmenter, build_sam, load_checkpoint, read_checkpoint

OFFICIAL_FILES = (
    "sam_vit_b_01ec64.pth",
    "sam_vit_l_0b3195.pth",
    "sam_vit_h_4b8939.pth",
    "medsam_vit_b.pth",
)


class NotWeights:
    """An arbitrary class: weights_only loading must refuse to unpickle it."""


def official_layout(model: SamSegmenter) -> dict[str, torch.Tensor]:
    """``model``'s state dict without the multi-class head, as in an official file."""
    return {
        name: tensor
        for name, tensor in model.state_dict().items()
        if not name.startswith(("mask_decoder.class_tokens", "mask_decoder.class_hyper"))
    }


def test_missing_file_names_official_checkpoints(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "sam.pth"
    with pytest.raises(SamsegConfigError) as error:
        build_sam("vit_b", 1024, missing)
    message = str(error.value)
    assert str(missing) in message
    for name in OFFICIAL_FILES:
        assert name in message
    assert "segment-anything" in message
    assert "MedSAM" in message


@pytest.mark.parametrize("layout", ["sam", "wrapped", "samseg"])
def test_layouts_load(tmp_path: Path, tiny_model: Callable[..., SamSegmenter], layout: str) -> None:
    source = tiny_model(seed=1, num_classes=3)
    weights = official_layout(source) if layout != "samseg" else source.state_dict()
    content: dict[str, object] = {
        "sam": weights,
        "wrapped": {"model": weights, "epoch": 3},
        "samseg": {"network_weights": weights, "trainer_name": "SAMLoRATrainer", "epoch": 7},
    }[layout]
    path = tmp_path / "weights.pth"
    torch.save(content, path)

    target = tiny_model(seed=2, num_classes=3)
    head_before = target.mask_decoder.class_tokens.weight.detach().clone()
    report = load_checkpoint(target, path)

    assert report.layout == layout
    loaded = target.state_dict()
    for name, tensor in weights.items():
        assert torch.equal(loaded[name], tensor), name
    if layout == "samseg":
        assert report.initialised == []
        assert report.metadata == {"trainer_name": "SAMLoRATrainer", "epoch": 7}
    else:
        assert report.initialised
        assert all(name.startswith("mask_decoder.class_") for name in report.initialised)
        assert torch.equal(target.mask_decoder.class_tokens.weight, head_before)


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(b"this is not a checkpoint")
    with pytest.raises(SamsegInputError, match=r"broken\.pth"):
        read_checkpoint(path)


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "object.pth"
    torch.save({"model": NotWeights()}, path)
    with pytest.raises(SamsegInputError, match=r"object\.pth.*weights_only"):
        read_checkpoint(path)


def test_non_tensor_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "strings.pth"
    torch.save({"image_encoder.pos_embed": "not a tensor"}, path)
    with pytest.raises(SamsegInputError, match=r"strings\.pth.*'image_encoder\.pos_embed'.*str"):
        read_checkpoint(path)


def test_mismatched_checkpoint_lists_expected_and_found(
    tmp_path: Path, tiny_model: Callable[..., SamSegmenter]
) -> None:
    weights = official_layout(tiny_model())
    weights["image_encoder.neck.0.weight"] = torch.zeros(128, 96, 1, 1)
    del weights["mask_decoder.iou_token.weight"]
    weights["image_encoder.extra"] = torch.zeros(2)
    path = tmp_path / "mismatched.pth"
    torch.save(weights, path)

    with pytest.raises(SamsegInputError) as error:
        build_sam("vit_tiny", 256, path)
    message = str(error.value)
    assert str(path) in message
    assert "3 mismatches" in message
    assert "image_encoder.neck.0.weight: expected (256, 96, 1, 1), found (128, 96, 1, 1)" in message
    assert "missing mask_decoder.iou_token.weight (1, 256)" in message
    assert "unexpected image_encoder.extra (2,)" in message


def test_other_architecture_is_named(official_vit_b: Path) -> None:
    with pytest.raises(
        SamsegInputError, match=r"sam_vit_b_01ec64\.pth.*holds a vit_b image encoder"
    ):
        build_sam("vit_tiny", 256, official_vit_b)


def test_samseg_checkpoint_with_other_class_count(
    tmp_path: Path, tiny_model: Callable[..., SamSegmenter]
) -> None:
    path = tmp_path / "checkpoint_final.pth"
    torch.save({"network_weights": tiny_model(num_classes=4).state_dict()}, path)
    with pytest.raises(
        SamsegInputError, match=r"class_tokens\.weight: expected \(2, 256\), found \(4, 256\)"
    ):
        build_sam("vit_tiny", 256, path, num_classes=2)
