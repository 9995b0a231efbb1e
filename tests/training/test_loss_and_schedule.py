"""DiceCELoss, pseudo-Dice counts and the warm-up + poly learning-rate schedule."""

from __future__ import annotations

import math

import pytest
import torch

from samseg.training.loss import IGNORE_INDEX, DiceCELoss, pseudo_dice, soft_dice_per_class
from samseg.training.lr_schedule import WarmupPolyLR

SMOOTH = 1e-5


def small_example() -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes, three pixels; probabilities (0.25, 0.75), (0.75, 0.25); third ignored."""
    logits = torch.tensor([[[[0.0, math.log(3), 50.0]], [[math.log(3), 0.0, -50.0]]]])
    target = torch.tensor([[[1, 1, IGNORE_INDEX]]])
    return logits, target


def test_dice_ce_equals_the_hand_computed_value_and_ignores_ignored_pixels() -> None:
    logits, target = small_example()
    cross_entropy = (-math.log(0.75) - math.log(0.25)) / 2
    dice_background = SMOOTH / (1.0 + SMOOTH)  # probabilities 0.25 + 0.75, no target
    dice_foreground = (2 * 1.0 + SMOOTH) / (1.0 + 2 + SMOOTH)
    expected = 0.2 * cross_entropy + 0.8 * (1 - (dice_background + dice_foreground) / 2)

    assert DiceCELoss()(logits, target).item() == pytest.approx(expected, rel=1e-6)
    foreground_only = 0.2 * cross_entropy + 0.8 * (1 - dice_foreground)
    loss = DiceCELoss(include_background=False)(logits, target)
    assert loss.item() == pytest.approx(foreground_only, rel=1e-6)


def test_soft_dice_per_class_and_an_all_ignored_batch() -> None:
    logits, target = small_example()
    dice = soft_dice_per_class(logits.softmax(1), target)
    assert dice.tolist() == pytest.approx([SMOOTH / (1 + SMOOTH), (2 + SMOOTH) / (3 + SMOOTH)])

    logits = logits.clone().requires_grad_()
    loss = DiceCELoss()(logits, torch.full_like(target, IGNORE_INDEX))
    loss.backward()
    assert loss.item() == pytest.approx(0.8 * (1 - 1.0))
    assert torch.all(logits.grad == 0)


def test_batch_dice_pools_the_sums_of_every_image_of_the_batch() -> None:
    """Two images of three pixels (one ignored): foreground only in the first. Batch Dice
    sums over both images; the mean of per-image Dice would give about 0.41, not 0.7."""
    foreground = torch.tensor([[0.8, 0.6, 0.9], [0.4, 0.2, 0.5]])
    probabilities = torch.stack([1 - foreground, foreground], dim=1)[:, :, None, :]
    target = torch.tensor([[[1, 1, IGNORE_INDEX]], [[0, 0, 0]]])
    # class 1: intersection 0.8 + 0.6, sum(p) 0.8 + 0.6 + 0.4 + 0.2 + 0.5, sum(t) 2
    dice_foreground = (2 * 1.4 + SMOOTH) / (2.5 + 2 + SMOOTH)
    # class 0: intersection 0.6 + 0.8 + 0.5, sum(p) 0.2 + 0.4 + 0.6 + 0.8 + 0.5, sum(t) 3
    dice_background = (2 * 1.9 + SMOOTH) / (2.5 + 3 + SMOOTH)
    dice = soft_dice_per_class(probabilities, target)
    assert dice.tolist() == pytest.approx([dice_background, dice_foreground], rel=1e-6)

    cross_entropy = -sum(math.log(v) for v in (0.8, 0.6, 0.6, 0.8, 0.5)) / 5
    expected = 0.2 * cross_entropy + 0.8 * (1 - (dice_background + dice_foreground) / 2)
    loss = DiceCELoss()(probabilities.log(), target)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_pseudo_dice_of_perfect_logits_is_one_and_counts_add_up() -> None:
    target = torch.randint(0, 4, (2, 8, 8))
    target[0, 0, :3] = IGNORE_INDEX
    perfect = torch.nn.functional.one_hot(target.clamp(min=0), 4).permute(0, 3, 1, 2) * 10.0
    tp, fp, fn = pseudo_dice(perfect, target, 4)
    assert torch.all(2 * tp / (2 * tp + fp + fn) == 1)
    assert tp.sum() == (target != IGNORE_INDEX).sum()

    logits, small_target = small_example()
    tp, fp, fn = pseudo_dice(logits, small_target, 2)
    assert (tp.tolist(), fp.tolist(), fn.tolist()) == ([0, 1], [1, 0], [0, 1])


def schedule(**settings) -> tuple[torch.optim.Optimizer, WarmupPolyLR]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    return optimizer, WarmupPolyLR(optimizer, **settings)


def rates(scheduler: WarmupPolyLR, optimizer: torch.optim.Optimizer, steps: int) -> list[float]:
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values


def test_warmup_then_poly_values() -> None:
    optimizer, scheduler = schedule(warmup_iterations=10, total_iterations=110)
    values = rates(scheduler, optimizer, 112)
    assert values[0] == pytest.approx(0.001)
    assert values[4] == pytest.approx(0.005)
    assert values[9] == values[10] == pytest.approx(0.01)
    assert values[60] == pytest.approx(0.01 * 0.5**0.9)
    assert values[109] == pytest.approx(0.01 * (1 / 100) ** 0.9)
    assert values[110] == values[111] == 0


def test_no_warmup_is_nnunets_poly_schedule() -> None:
    optimizer, scheduler = schedule(warmup_iterations=0, total_iterations=50)
    values = rates(scheduler, optimizer, 50)
    assert values == pytest.approx([0.01 * (1 - t / 50) ** 0.9 for t in range(50)])


def test_resume_from_state_dict_continues_exactly() -> None:
    optimizer, scheduler = schedule(warmup_iterations=5, total_iterations=60, exponent=0.8)
    rates(scheduler, optimizer, 23)
    states = optimizer.state_dict(), scheduler.state_dict()
    expected = rates(scheduler, optimizer, 30)

    resumed_optimizer, resumed = schedule(warmup_iterations=5, total_iterations=60, exponent=0.8)
    resumed_optimizer.load_state_dict(states[0])
    resumed.load_state_dict(states[1])
    assert rates(resumed, resumed_optimizer, 30) == expected


def test_invalid_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="warmup_iterations"):
        schedule(warmup_iterations=10, total_iterations=10)
