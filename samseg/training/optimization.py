"""The optimizer and learning-rate schedule of samseg's trainers: AdamW, linear warm-up to the
peak rate, then poly decay to zero, stepped once per iteration."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from samseg.training.lr_schedule import WarmupPolyLR


def adamw_with_warmup_poly(
    parameters: Iterable[torch.nn.Parameter],
    *,
    learning_rate: float,
    weight_decay: float,
    warmup_iterations: int,
    total_iterations: int,
    exponent: float = 0.9,
) -> tuple[torch.optim.AdamW, WarmupPolyLR]:
    """AdamW over ``parameters`` and its per-iteration schedule.

    Args:
        parameters: the trainable parameters.
        learning_rate: peak rate, reached at the end of the warm-up.
        weight_decay: AdamW's decoupled weight decay.
        warmup_iterations: iterations of linear warm-up (shortened to fit a schedule shorter
            than it).
        total_iterations: epochs x iterations per epoch; the rate reaches 0 there.
        exponent: poly decay exponent.
    """
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=weight_decay)
    scheduler = WarmupPolyLR(
        optimizer,
        warmup_iterations=min(warmup_iterations, total_iterations - 1),
        total_iterations=total_iterations,
        exponent=exponent,
    )
    return optimizer, scheduler
