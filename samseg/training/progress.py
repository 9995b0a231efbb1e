"""Per-epoch training history and the ``progress.png`` plot drawn from it.

The history is what a checkpoint stores under ``"logging"`` (plain lists of numbers), so a
resumed run continues the same curves.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from samseg.io import atomic_output


@dataclass
class TrainingHistory:
    """One entry per finished epoch.

    Attributes:
        train_losses: mean training loss (CE + Dice) per epoch.
        val_losses: mean loss on the validation batches per epoch.
        pseudo_dice: per epoch, the Dice of each foreground class over all validation
            batches of the epoch (true positives, false positives and false negatives summed
            over pixels before dividing; NaN for a class absent from prediction and target).
        ema_pseudo_dice: exponential moving average of the mean pseudo-Dice.
        learning_rates: learning rate at the end of each epoch.
        epoch_seconds: wall time per epoch, seconds.
        data_wait_shares: share (0-1) of the training time spent waiting for batches.
        best_ema_pseudo_dice: highest EMA pseudo-Dice so far (``checkpoint_best.pth``).
        ema_momentum: weight of the previous EMA value (nnU-Net: 0.9).
    """

    train_losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    pseudo_dice: list[list[float]] = field(default_factory=list)
    ema_pseudo_dice: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    data_wait_shares: list[float] = field(default_factory=list)
    best_ema_pseudo_dice: float | None = None
    ema_momentum: float = 0.9

    @property
    def num_epochs(self) -> int:
        """Epochs recorded."""
        return len(self.train_losses)

    def record(
        self,
        *,
        train_loss: float,
        val_loss: float,
        pseudo_dice: list[float],
        learning_rate: float,
        epoch_seconds: float,
        data_wait_share: float,
    ) -> bool:
        """Append one epoch; return whether its EMA pseudo-Dice is the best so far."""
        finite = [d for d in pseudo_dice if not math.isnan(d)]
        mean_dice = sum(finite) / len(finite) if finite else 0.0
        previous = self.ema_pseudo_dice[-1] if self.ema_pseudo_dice else mean_dice
        ema = self.ema_momentum * previous + (1 - self.ema_momentum) * mean_dice
        self.train_losses.append(float(train_loss))
        self.val_losses.append(float(val_loss))
        self.pseudo_dice.append([float(d) for d in pseudo_dice])
        self.ema_pseudo_dice.append(float(ema))
        self.learning_rates.append(float(learning_rate))
        self.epoch_seconds.append(float(epoch_seconds))
        self.data_wait_shares.append(float(data_wait_share))
        improved = self.best_ema_pseudo_dice is None or ema > self.best_ema_pseudo_dice
        if improved:
            self.best_ema_pseudo_dice = float(ema)
        return improved

    def epoch_summary(self) -> str:
        """One log line about the last recorded epoch."""
        dice = ", ".join(f"{d:.4f}" for d in self.pseudo_dice[-1])
        return (
            f"Epoch {self.num_epochs - 1}: train loss {self.train_losses[-1]:.4f}, "
            f"val loss {self.val_losses[-1]:.4f}, pseudo Dice [{dice}], "
            f"EMA {self.ema_pseudo_dice[-1]:.4f}, lr {self.learning_rates[-1]:.3g}, "
            f"{self.epoch_seconds[-1]:.1f} s (waiting for data "
            f"{100 * self.data_wait_shares[-1]:.1f}%)"
        )

    def to_json(self) -> dict:
        """Plain lists and numbers (stored in checkpoints under ``"logging"``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainingHistory:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


def plot_progress(history: TrainingHistory, path: str | os.PathLike) -> None:
    """Draw losses with pseudo-Dice, epoch time and learning rate per epoch to ``path`` (PNG).

    Uses matplotlib's Agg canvas directly (no pyplot state, no display needed) and writes the
    file atomically.
    """
    epochs = list(range(history.num_epochs))
    figure = Figure(figsize=(12, 14))
    FigureCanvasAgg(figure)
    losses, times, rates = figure.subplots(3, 1)
    losses.plot(epochs, history.train_losses, color="b", label="train loss")
    losses.plot(epochs, history.val_losses, color="r", label="val loss")
    losses.set_xlabel("epoch")
    losses.set_ylabel("loss")
    dice = losses.twinx()
    mean_dice = [_nanmean(values) for values in history.pseudo_dice]
    dice.plot(epochs, mean_dice, color="g", linestyle="dotted", label="pseudo Dice")
    dice.plot(epochs, history.ema_pseudo_dice, color="g", label="pseudo Dice (EMA)")
    dice.set_ylabel("pseudo Dice")
    losses.legend(loc="upper left")
    dice.legend(loc="upper right")
    times.plot(epochs, history.epoch_seconds, color="b", label="epoch duration")
    times.set_xlabel("epoch")
    times.set_ylabel("time [s]")
    times.legend(loc="upper left")
    rates.plot(epochs, history.learning_rates, color="b", label="learning rate")
    rates.set_xlabel("epoch")
    rates.set_ylabel("learning rate")
    rates.legend(loc="upper left")
    figure.tight_layout()
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png")


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan
