"""The inner loops of an epoch: optimisation steps over training batches, then the loss and
pseudo-Dice counts over validation batches."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm

from samseg.training.batch import TrainingBatch


@dataclass(frozen=True)
class TrainEpochResult:
    """What the training part of an epoch measured.

    Attributes:
        mean_loss: mean training loss over the iterations.
        seconds: wall time of the training part, seconds.
        data_wait_seconds: time spent waiting for the next batch, seconds.
    """

    mean_loss: float
    seconds: float
    data_wait_seconds: float

    @property
    def data_wait_share(self) -> float:
        """Share (0-1) of the training time spent waiting for data."""
        return self.data_wait_seconds / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ValidationEpochResult:
    """Loss and arg-max counts over the validation batches of an epoch.

    Attributes:
        mean_loss: mean loss over the batches.
        counts: (3, C) int64 pixel counts per class (background at index 0), summed over
            every batch: true positives, false positives, false negatives.
    """

    mean_loss: float
    counts: torch.Tensor


def foreground_pseudo_dice(counts: torch.Tensor) -> list[float]:
    """Pseudo-Dice ``2 tp / (2 tp + fp + fn)`` of each foreground class (NaN where 0 / 0).

    Args:
        counts: (3, C) true positives, false positives, false negatives per class.
    """
    tp, fp, fn = counts[:, 1:].double()
    denominator = 2 * tp + fp + fn
    return [
        2 * t / d if d > 0 else math.nan
        for t, d in zip(tp.tolist(), denominator.tolist(), strict=True)
    ]


BatchLoss = Callable[[TrainingBatch], torch.Tensor | Iterable[torch.Tensor]]
"""The loss of one batch (a scalar tensor with a graph), the trainer's ``batch_loss`` seam; or
an iterable of such losses, one optimizer step each (a generator computes the next loss after
the previous step, e.g. one step per simulated interaction)."""

ValidationCounts = Callable[[TrainingBatch], tuple[float, torch.Tensor]]
"""A validation batch's loss and (3, C) pseudo-Dice counts, the trainer's ``validation_counts``
seam."""


class OptimisationStep:
    """One training iteration, the one engine every trainer shares: zero the gradients, the
    batch loss (the trainer's seam: one or several forward passes), backward (scaled for
    fp16), unscaling, gradient-norm clipping, the optimizer and the learning-rate step.

    A seam that returns an iterable of losses gets these steps (zeroing included) once per
    loss, and the learning-rate step once per batch."""

    def __init__(
        self,
        *,
        batch_loss: BatchLoss,
        parameters: Iterable[nn.Parameter],
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        grad_scaler: torch.amp.GradScaler,
        grad_clip_norm: float,
        device: torch.device,
    ) -> None:
        self.batch_loss = batch_loss
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.grad_scaler = grad_scaler
        self.grad_clip_norm = grad_clip_norm
        self.device = device
        self.parameters = list(parameters)

    def __call__(self, batch: TrainingBatch) -> float:
        """Train on ``batch``; return its loss before the step (the mean of an iterable's)."""
        losses = self.batch_loss(batch.to(self.device))
        if isinstance(losses, torch.Tensor):
            losses = [losses]
        values = [self._update(loss) for loss in losses]
        self.scheduler.step()
        return sum(values) / max(len(values), 1)

    def _update(self, loss: torch.Tensor) -> float:
        """One optimizer step on ``loss``'s gradients; its value."""
        self.optimizer.zero_grad(set_to_none=True)
        self.grad_scaler.scale(loss).backward()
        self.grad_scaler.unscale_(self.optimizer)
        nn.utils.clip_grad_norm_(self.parameters, self.grad_clip_norm)
        self.grad_scaler.step(self.optimizer)
        self.grad_scaler.update()
        return float(loss.detach())


def train_epoch(
    step: OptimisationStep,
    batches: Iterator[TrainingBatch],
    iterations: int,
    *,
    label: str,
    show_progress: bool,
) -> TrainEpochResult:
    """Run ``iterations`` optimisation steps on batches drawn from ``batches``."""
    start = time.perf_counter()
    waited = 0.0
    total = 0.0
    with tqdm(total=iterations, desc=label, unit="it", disable=not show_progress) as bar:
        for _ in range(iterations):
            before = time.perf_counter()
            batch = next(batches)
            waited += time.perf_counter() - before
            value = step(batch)
            total += value
            bar.set_postfix(loss=f"{value:.4f}", refresh=False)
            bar.update()
    return TrainEpochResult(total / max(iterations, 1), time.perf_counter() - start, waited)


@torch.no_grad()
def validation_epoch(
    validation_counts: ValidationCounts,
    batches: Iterator[TrainingBatch],
    iterations: int,
    *,
    num_classes: int,
    device: torch.device,
) -> ValidationEpochResult:
    """Mean loss and summed (3, C) pseudo-Dice counts of ``iterations`` validation batches."""
    counts = torch.zeros(3, num_classes, dtype=torch.int64)
    total = 0.0
    for _ in range(iterations):
        loss, batch_counts = validation_counts(next(batches).to(device))
        total += loss
        counts += batch_counts.cpu()
    return ValidationEpochResult(total / max(iterations, 1), counts)
