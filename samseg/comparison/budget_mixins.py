"""What a generated ``--minutes`` trainer adds to its base (see ``samseg.comparison.budget``)."""

from __future__ import annotations


class TimeBudget:
    """Mixin: end training after the epoch whose end passes ``budget_seconds`` of epochs, with
    the learning rate's poly decay planned to end with the budget.

    After each epoch the schedule's ``total_iterations`` becomes the iterations done plus those
    the last epoch's pace fits into the time left (the last, not the mean: the first epoch
    also builds the embedding cache), so the rate decays over the time budget as it would over
    an iteration budget. The epochs' times come from the
    trainer's history, which ``--c`` restores, so a continued run counts the time trained
    before it was interrupted.
    """

    budget_seconds: float

    def train_one_epoch(self) -> None:
        super().train_one_epoch()
        spent = sum(self.history.epoch_seconds)
        if spent >= self.budget_seconds:
            self.num_epochs = self.current_epoch
            return
        scheduler = self.scheduler
        pace = self.num_iterations_per_epoch / self.history.epoch_seconds[-1]
        left = int((self.budget_seconds - spent) * pace)
        scheduler.total_iterations = max(
            scheduler.last_epoch + left, scheduler.warmup_iterations + 1
        )
