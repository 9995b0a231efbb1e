"""decode_prompt_mode on a tiny random SAM: the same prompts as a direct call, clicks that
stop once the prediction is right."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samseg.models import PromptedMasks, build_sam
from samseg.prompting import PromptingSettings, PromptMode, decode_prompt_mode, tight_box

SIZE = 64


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    return build_sam("vit_tiny", SIZE, None, num_classes=2, precision="fp32").eval()


def disc_targets(batch: int) -> np.ndarray:
    rows, columns = np.mgrid[:SIZE, :SIZE]
    radii = [10 + 4 * i for i in range(batch)]
    return np.stack([(rows - 30) ** 2 + (columns - 26) ** 2 < r * r for r in radii])


@torch.no_grad()
def test_box_and_point_modes_equal_a_direct_prompted_call(network) -> None:
    images = torch.rand(2, 3, SIZE, SIZE) * 255
    embeddings = network.encode(images).image_embeddings
    targets = disc_targets(2)
    (box_logits,) = decode_prompt_mode(network, embeddings, targets, PromptMode("box"))
    boxes = torch.tensor(np.stack([tight_box(t) for t in targets]), dtype=torch.float32)
    direct = network.predict_with_prompts(embeddings, boxes=boxes).low_res_logits
    assert torch.equal(box_logits, direct)
    (point_logits,) = decode_prompt_mode(network, embeddings, targets, PromptMode("point"))
    coords = torch.tensor([[[26.0, 30.0]], [[26.0, 30.0]]])
    direct = network.predict_with_prompts(embeddings, (coords, torch.ones(2, 1, dtype=torch.int64)))
    assert torch.equal(point_logits, direct.low_res_logits)


class FixedMaskNetwork:
    """Answers every prompt with the same disc (radius 10) and records the decoded batches."""

    input_size = SIZE

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, bool]] = []
        self.classes: list[list[int] | None] = []
        disc = torch.from_numpy(disc_targets(1)[0]).float()
        self.logits = (disc * 2 - 1)[None, None]

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        return low_res_logits

    def predict_with_prompts(
        self, embeddings, points, boxes, mask_inputs, multimask_output, classes
    ):
        self.calls.append((len(embeddings), points[0].shape[1], mask_inputs is not None))
        self.classes.append(None if classes is None else classes.tolist())
        batch = len(embeddings)
        return PromptedMasks(self.logits.expand(batch, 1, -1, -1), torch.ones(batch, 1))


def test_clicks_accumulate_and_stop_once_the_prediction_is_right() -> None:
    fake = FixedMaskNetwork()
    embeddings = torch.zeros(2, 256, SIZE // 4, SIZE // 4)
    targets = disc_targets(2)  # target 0 is the disc the network answers, target 1 is larger
    history = decode_prompt_mode(fake, embeddings, targets, PromptMode("clicks", 3))
    assert len(history) == 3
    # click 1 for both (no mask prompt); then only target 1, with 2 and 3 clicks and its mask
    assert fake.calls == [(2, 1, False), (1, 2, True), (1, 3, True)]
    assert all(torch.equal(h[0], fake.logits[0]) for h in history)


@torch.no_grad()
def test_each_click_decodes_its_targets_with_their_own_classes() -> None:
    fake = FixedMaskNetwork()
    embeddings = torch.zeros(2, 256, SIZE // 4, SIZE // 4)
    classes = torch.tensor([3, 5])
    decode_prompt_mode(fake, embeddings, disc_targets(2), PromptMode("clicks", 3), classes=classes)
    assert fake.classes == [[3, 5], [5], [5]], "target 1 alone keeps its class after click 1"
    decode_prompt_mode(fake, embeddings, disc_targets(2), PromptMode("point"))
    assert fake.classes[-1] is None


def test_the_first_click_is_the_single_point_mode(network) -> None:
    embeddings = network.encode(torch.rand(3, 3, SIZE, SIZE) * 255).image_embeddings
    targets = disc_targets(3)
    history = decode_prompt_mode(network, embeddings, targets, PromptMode("clicks", 2))
    (point,) = decode_prompt_mode(network, embeddings, targets, PromptMode("point"))
    assert torch.equal(history[0], point)
    assert history[1].shape == point.shape


def test_empty_targets_and_wrong_shapes_are_refused(network) -> None:
    embeddings = torch.zeros(2, 256, 4, 4)
    targets = disc_targets(2)
    targets[1] = False
    with pytest.raises(ValueError, match=r"targets \[1\] are empty"):
        decode_prompt_mode(network, embeddings, targets, PromptMode("box"))
    with pytest.raises(ValueError, match="targets must be"):
        decode_prompt_mode(network, embeddings, targets[:, :10], PromptMode("box"))


@torch.no_grad()
def test_random_points_are_seeded(network) -> None:
    embeddings = network.encode(torch.rand(1, 3, SIZE, SIZE) * 255).image_embeddings
    targets = disc_targets(1)
    mode = PromptMode("points", 4)
    first = decode_prompt_mode(network, embeddings, targets, mode, PromptingSettings(seed=1))
    same = decode_prompt_mode(network, embeddings, targets, mode, PromptingSettings(seed=1))
    other = decode_prompt_mode(network, embeddings, targets, mode, PromptingSettings(seed=2))
    assert torch.equal(first[0], same[0])
    assert not torch.equal(first[0], other[0])
