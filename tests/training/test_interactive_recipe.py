"""The interactive recipe's pieces: simulated prompts, the interaction loss, the sample's
class, the eleven-step episode, and the engine's step per yielded loss."""

from __future__ import annotations

import math

import pytest
import torch

from samseg.models import build_sam
from samseg.training.interactive import (
    InteractionSettings,
    InteractiveLoss,
    binary_targets,
    interaction_losses,
)
from samseg.training.interactive.simulation import (
    PADDING_LABEL,
    draw_first_prompt,
    error_region_points,
    first_points,
    noisy_boxes,
)
from samseg.training.loop import OptimisationStep
from samseg.training.loss import IGNORE_INDEX


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_the_first_prompt_follows_the_setting():
    assert InteractionSettings().first_prompt_probabilities(1) == pytest.approx((1 / 3,) * 3)
    assert InteractionSettings().first_prompt_probabilities(2) == pytest.approx((0, 0.5, 0.5))
    settings = InteractionSettings(first_prompt_weights=(1, 0, 3))
    probabilities = settings.first_prompt_probabilities(13)
    assert probabilities == pytest.approx((0.25, 0, 0.75))
    rng = generator()
    kinds = [draw_first_prompt(probabilities, rng) for _ in range(4000)]
    assert "point" not in kinds
    assert kinds.count("none") / len(kinds) == pytest.approx(0.25, abs=0.025)
    uniform = [draw_first_prompt((1 / 3,) * 3, rng) for _ in range(3000)]
    for kind in ("none", "point", "box"):
        assert uniform.count(kind) / 3000 == pytest.approx(1 / 3, abs=0.03)
    with pytest.raises(ValueError, match="first_prompt_weights"):
        InteractionSettings(first_prompt_weights=(0, 0, 0))


def test_error_region_points_lie_in_the_error_region_with_their_labels():
    targets = torch.zeros(3, 20, 20, dtype=torch.bool)
    predictions = torch.zeros(3, 20, 20, dtype=torch.bool)
    targets[:, 5:15, 5:15] = True
    predictions[0, 8:18, 8:18] = True  # both kinds of error
    predictions[1] = targets[1]
    predictions[1, 0, 0:2] = True  # two false positives only
    predictions[2] = targets[2]  # no error
    coords, labels = error_region_points(predictions, targets, 9, generator(3))
    assert coords.shape == (3, 9, 2) and labels.shape == (3, 9)
    x, y = coords[0, :, 0].long(), coords[0, :, 1].long()
    errors = predictions[0] ^ targets[0]
    assert errors[y, x].all()
    assert torch.equal(labels[0], targets[0][y, x].long())
    assert len({(int(a), int(b)) for a, b in zip(x, y, strict=True)}) == 9
    assert {0, 1} <= set(labels[0].tolist())
    assert labels[1, :2].tolist() == [0, 0] and (labels[1, 2:] == PADDING_LABEL).all()
    assert sorted(coords[1, :2, 0].tolist()) == [0.0, 1.0] and (coords[1, :2, 1] == 0).all()
    assert (labels[2] == PADDING_LABEL).all() and (coords[1:, 2:] == 0).all()


def test_first_points_lie_inside_and_boxes_are_noisy_within_the_cap():
    masks = torch.zeros(2, 64, 64, dtype=torch.bool)
    masks[0, 10:30, 20:60] = True
    masks[1, 50:52, 3:5] = True
    coords, labels = first_points(masks, generator())
    assert masks[torch.arange(2), coords[:, 0, 1].long(), coords[:, 0, 0].long()].all()
    assert labels.tolist() == [[1], [1]]
    tight = torch.tensor([[20.0, 10, 59, 29], [3, 50, 4, 51]])
    exact = noisy_boxes(masks, generator(), fraction=0.0, cap=20)
    assert torch.equal(exact, tight)
    rng = generator(1)
    many = torch.stack([noisy_boxes(masks, rng, fraction=0.1, cap=20) for _ in range(400)])
    spread = (many - tight).std(dim=0)
    assert spread[0].tolist() == pytest.approx([3.9, 1.9, 3.9, 1.9], abs=0.6)
    capped = torch.stack([noisy_boxes(masks, rng, fraction=5.0, cap=2.5) for _ in range(50)])
    assert (capped - tight).abs().max() <= 2.5
    assert (capped[..., 0] <= capped[..., 2]).all() and (capped[..., 1] <= capped[..., 3]).all()
    assert capped.min() >= 0 and capped.max() <= 63


def test_the_loss_equals_a_hand_computation():
    logits = torch.tensor([[[[2.0, -1.0], [0.5, -3.0]]]])
    iou_prediction = torch.tensor([[0.7]])
    targets = torch.tensor([[[True, True], [False, False]]])
    valid = torch.tensor([[[True, True], [True, False]]])
    values = [2.0, -1.0, 0.5]
    truth = [1, 1, 0]
    p = [1 / (1 + math.exp(-v)) for v in values]
    dice = 1 - (2 * (p[0] + p[1]) + 1e-5) / (sum(p) + 2 + 1e-5)
    focal = 0.0
    for probability, t in zip(p, truth, strict=True):
        p_t = probability if t else 1 - probability
        alpha_t = 0.25 if t else 0.75
        focal += -alpha_t * (1 - p_t) ** 2 * math.log(p_t)
    focal /= 3
    iou = 1 / 3  # predicted {(0,0), (1,0)}, target {(0,0), (0,1)}
    expected = dice + 20 * focal + (0.7 - iou) ** 2
    found = InteractiveLoss()(logits, iou_prediction, targets, valid)
    assert float(found) == pytest.approx(expected, rel=1e-6)


def test_binary_targets_take_the_sampled_class_when_present():
    target = torch.zeros(4, 8, 8, dtype=torch.int64)
    target[0, :2] = 1
    target[0, 4:] = 2
    target[1, :2] = 2
    target[2, 0, 0] = IGNORE_INDEX  # no foreground: left out
    target[3, :3] = 1
    target[3, 7] = IGNORE_INDEX
    sampled = torch.tensor([2, 1, 1, -1])
    chosen = binary_targets(target, sampled, generator())
    assert chosen.index.tolist() == [0, 1, 3]
    assert chosen.classes.tolist() == [2, 2, 1]  # 1 is absent from sample 1: 2 is
    assert torch.equal(chosen.masks, target[[0, 1, 3]] == chosen.classes[:, None, None])
    assert not chosen.valid[2, 7].any() and chosen.valid[2, :7].all()
    draws = {int(binary_targets(target[:1], None, generator(s)).classes[0]) for s in range(20)}
    assert draws == {1, 2}


def tiny_network(size: int = 64):
    torch.manual_seed(0)
    network = build_sam("vit_tiny", size, None, num_classes=3)
    network.precision = "fp32"
    return network


@pytest.mark.parametrize(
    ("weights", "first_call"),
    [
        ((0, 0, 1), (False, True, False)),
        ((0, 1, 0), (True, False, False)),
        ((1, 0, 0), (False, False, False)),
    ],
)
def test_the_episode_has_eleven_steps_and_the_encoder_learns_from_the_first_only(
    weights, first_call
):
    network = tiny_network()
    images = torch.rand(2, 3, 64, 64) * 255
    embeddings = network.encode(images).image_embeddings
    target = torch.zeros(2, 64, 64, dtype=torch.int64)
    target[:, 10:40, 20:50] = 1
    chosen = binary_targets(target, None, generator())
    calls = []
    original = network.predict_with_prompts

    def recording(image, points, boxes, mask_inputs, *, multimask_output):
        calls.append((points is not None, boxes is not None, mask_inputs is not None))
        assert not multimask_output
        return original(image, points, boxes, mask_inputs, multimask_output=multimask_output)

    network.predict_with_prompts = recording
    settings = InteractionSettings(first_prompt_weights=weights)
    losses = list(
        interaction_losses(
            network,
            embeddings,
            chosen,
            loss=InteractiveLoss(),
            settings=settings,
            first_prompt_probabilities=settings.first_prompt_probabilities(1),
            generator=generator(),
        )
    )
    assert len(losses) == 11
    assert calls[0] == first_call
    assert all(mask for _, box, mask in calls[1:]) and not any(box for _, box, _ in calls[1:])
    assert calls[-1] == (False, False, True) and any(points for points, _, _ in calls[1:])
    encoder = [p for p in network.image_encoder.parameters()]
    first = torch.autograd.grad(losses[0], encoder, retain_graph=True, allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in first)
    later = torch.autograd.grad(sum(losses[1:]), encoder, allow_unused=True)
    assert all(g is None for g in later)


def test_the_engine_steps_once_per_loss_of_an_iterable_and_schedules_once():
    weight = torch.nn.Parameter(torch.tensor(1.0))
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    seen = []

    def losses(batch):
        for _ in range(3):
            seen.append(float(weight.detach()))
            yield weight * 2

    step = OptimisationStep(
        batch_loss=losses,
        parameters=[weight],
        optimizer=optimizer,
        scheduler=scheduler,
        grad_scaler=torch.amp.GradScaler("cpu", enabled=False),
        grad_clip_norm=100.0,
        device=torch.device("cpu"),
    )
    batch = type("Batch", (), {"to": lambda self, device: self})()
    value = step(batch)
    assert seen == pytest.approx([1.0, 0.8, 0.6])  # each loss after the previous step
    assert value == pytest.approx(2 * (1.0 + 0.8 + 0.6) / 3)
    assert scheduler.last_epoch == 1
