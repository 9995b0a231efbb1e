"""Learning-rate schedule: linear warm-up, then polynomial decay, stepped once per iteration."""

from __future__ import annotations

import torch


class WarmupPolyLR(torch.optim.lr_scheduler.LRScheduler):
    """Linear warm-up to the optimizer's learning rate, then nnU-Net's poly decay to 0.

    With W = ``warmup_iterations``, T = ``total_iterations`` and base rate ``lr0``, the rate
    used for iteration t (0-based, i.e. after t calls of :meth:`step`) is::

        t < W:       lr0 * (t + 1) / W                     (SAMed's warm-up)
        W <= t < T:  lr0 * (1 - (t - W) / (T - W)) ** exponent
        t >= T:      0

    ``warmup_iterations=0`` gives nnU-Net's ``PolyLRScheduler``. ``state_dict`` holds the
    iteration and every setting, so a resumed schedule continues exactly.

    Args:
        optimizer: its param groups' ``lr`` are the base rates.
        warmup_iterations: W >= 0.
        total_iterations: T > W.
        exponent: decay exponent (>= 0; 0 keeps the base rate until T).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        warmup_iterations: int,
        total_iterations: int,
        exponent: float = 0.9,
    ) -> None:
        if warmup_iterations < 0 or total_iterations <= warmup_iterations or exponent < 0:
            raise ValueError(
                "WarmupPolyLR expects 0 <= warmup_iterations < total_iterations and exponent >= 0, "
                f"found warmup_iterations={warmup_iterations}, "
                f"total_iterations={total_iterations}, exponent={exponent}"
            )
        self.warmup_iterations = warmup_iterations
        self.total_iterations = total_iterations
        self.exponent = exponent
        super().__init__(optimizer)

    def factor(self, iteration: int) -> float:
        """Multiplier of the base rates at 0-based ``iteration``."""
        if iteration < self.warmup_iterations:
            return (iteration + 1) / self.warmup_iterations
        if iteration >= self.total_iterations:
            return 0.0
        decay_progress = (iteration - self.warmup_iterations) / (
            self.total_iterations - self.warmup_iterations
        )
        return (1 - decay_progress) ** self.exponent

    def get_lr(self) -> list[float]:
        """Learning rates of the param groups for iteration ``last_epoch``."""
        factor = self.factor(self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]
