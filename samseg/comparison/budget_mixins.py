"""What a generated ``--minutes`` trainer adds to its base (see ``samseg.comparison.budget``)."""

from __future__ import annotations


class TimeBudget:
    """Mixin: end training after the epoch whose end passes ``budget_seconds`` of epochs.

    The epochs' times come from the trainer's history, which ``--c`` restores, so a continued
    run counts the time trained before it was interrupted.
    """

    budget_seconds: float

    def train_one_epoch(self) -> None:
        super().train_one_epoch()
        if sum(self.history.epoch_seconds) >= self.budget_seconds:
            self.num_epochs = self.current_epoch
