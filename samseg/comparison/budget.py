"""The training budget every compared trainer gets, as generated trainer subclasses.

``--iterations N`` gives each trainer exactly ``N`` optimisation steps (``E`` epochs of
``N / E`` steps, ``E`` the largest divisor of ``N`` up to :data:`MAX_EPOCHS`), with the warm-up
shortened to a tenth of the budget when the trainer's own is longer and the validation
batches of an epoch (its pseudo-Dice) cut to its training steps; ``--minutes M`` lets each
trainer train epochs of at most :data:`TIME_BUDGET_STEPS` steps until its epochs' recorded
time reaches ``M`` minutes, its warm-up at most one such epoch and its poly decay re-planned
after every epoch to end with the budget (``samseg.comparison.budget_mixins.TimeBudget``).

A budget becomes a subclass per trainer, written as Python source into
``REPORT_DIR/trainers/budget_trainers.py`` and found through ``SAMSEG_extTrainer`` like any
user trainer, named ``{Trainer}_{N}it`` or ``{Trainer}_{M}min``: its results folder is its own,
so a finished run of the same trainer and budget is reused by every later comparison, and
the file reproduces the run with plain ``samseg_train``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from samseg.errors import SamsegInputError
from samseg.io import atomic_output

MAX_EPOCHS = 10
"""Most epochs an iteration budget is cut into (each ends with a checkpoint for ``--c``)."""

TIME_BUDGET_STEPS = 20
"""Most steps per epoch under ``--minutes`` (the budget is checked after each epoch)."""

TIME_BUDGET_MAX_EPOCHS = 10_000
"""Nominal epochs under ``--minutes`` (the budget ends training long before)."""

BUDGET_FILE = "budget_trainers.py"


@dataclass(frozen=True)
class TrainingBudget:
    """``--iterations`` or ``--minutes`` (exactly one may be set; neither: the trainers' own).

    Attributes:
        iterations: optimisation steps per trainer.
        minutes: wall minutes of training epochs per trainer.
    """

    iterations: int | None = None
    minutes: float | None = None

    def check(self) -> None:
        """Raises SamsegInputError: both set, or a budget that is not positive."""
        if self.iterations is not None and self.minutes is not None:
            raise SamsegInputError(
                "--iterations/--minutes: expected one budget, found both "
                f"({self.iterations} iterations and {self.minutes} minutes)"
            )
        if self.iterations is not None and self.iterations < 1:
            raise SamsegInputError(
                f"--iterations: expected a positive number of iterations, found {self.iterations}"
            )
        if self.minutes is not None and not self.minutes > 0:
            raise SamsegInputError(
                f"--minutes: expected a positive number of minutes, found {self.minutes}"
            )

    @property
    def is_set(self) -> bool:
        return self.iterations is not None or self.minutes is not None

    @property
    def suffix(self) -> str:
        """``200it``, ``2.5min`` (``5min`` for whole minutes); empty without a budget."""
        if self.iterations is not None:
            return f"{self.iterations}it"
        if self.minutes is not None:
            return f"{self.minutes:g}min".replace(".", "p")
        return ""

    def epochs_and_steps(self) -> tuple[int, int]:
        """(epochs, steps per epoch) whose product is ``iterations``."""
        if self.iterations is None:
            raise ValueError("epochs_and_steps needs an iteration budget")
        epochs = max(e for e in range(1, MAX_EPOCHS + 1) if self.iterations % e == 0)
        return epochs, self.iterations // epochs

    def to_json(self) -> dict:
        return {"iterations": self.iterations, "minutes": self.minutes}


def budget_trainer_name(trainer: str, budget: TrainingBudget) -> str:
    """The trainer a comparison trains: ``trainer`` itself without a budget."""
    return f"{trainer}_{budget.suffix}" if budget.is_set else trainer


def budget_trainer_source(trainers: list[str], budget: TrainingBudget) -> str:
    """Python source of one budget subclass per trainer (see the module docstring).

    Each base is looked up with :func:`~samseg.training.registry.trainer_class`, so a
    trainer of ``SAMSEG_extTrainer`` works as well as samseg's own.
    """
    lines = [
        f'"""Budget trainers of samseg_compare ({budget.suffix}); generated, do not edit."""',
        "",
        *(["from samseg.comparison.budget_mixins import TimeBudget"] if budget.minutes else []),
        "from samseg.training.registry import trainer_class",
    ]
    for trainer in trainers:
        name = budget_trainer_name(trainer, budget)
        lines += ["", "", f'{trainer} = trainer_class("{trainer}")', "", ""]
        if budget.iterations is not None:
            epochs, steps = budget.epochs_and_steps()
            lines += [
                f"class {name}({trainer}):",
                f'    """{trainer} for {budget.iterations} iterations ({epochs} x {steps})."""',
                "",
                f"    num_epochs = {epochs}",
                f"    num_iterations_per_epoch = {steps}",
                f"    warmup_iterations = min({trainer}.warmup_iterations, "
                f"max(1, {budget.iterations} // 10))",
                f"    num_val_iterations_per_epoch = min({trainer}.num_val_iterations_per_epoch, "
                f"{steps})",
            ]
        else:
            lines += [
                f"class {name}(TimeBudget, {trainer}):",
                f'    """{trainer} for {budget.minutes:g} minutes of training epochs."""',
                "",
                f"    budget_seconds = {60 * float(budget.minutes)!r}",
                f"    num_epochs = {TIME_BUDGET_MAX_EPOCHS}",
                f"    num_iterations_per_epoch = min({trainer}.num_iterations_per_epoch, "
                f"{TIME_BUDGET_STEPS})",
                f"    warmup_iterations = min({trainer}.warmup_iterations, {TIME_BUDGET_STEPS})",
                f"    num_val_iterations_per_epoch = min({trainer}.num_val_iterations_per_epoch, "
                f"{TIME_BUDGET_STEPS})",
            ]
    return "\n".join(lines) + "\n"


def write_budget_trainers(folder: Path, trainers: list[str], budget: TrainingBudget) -> Path:
    """Write (atomically) :data:`BUDGET_FILE` in ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BUDGET_FILE
    with atomic_output(path) as temporary:
        temporary.write_text(budget_trainer_source(trainers, budget), encoding="utf-8")
    return path
