"""Budget trainers: exact iteration splits, the generated file is a trainer the registry finds,
the time budget ends training after the epoch that passes it."""

from __future__ import annotations

import pytest

from samseg.comparison.budget import TrainingBudget, budget_trainer_name, write_budget_trainers
from samseg.comparison.budget_mixins import TimeBudget
from samseg.errors import SamsegInputError
from samseg.training.registry import available_trainers, trainer_class


@pytest.mark.parametrize(
    ("iterations", "split"), [(200, (10, 20)), (7, (7, 1)), (13, (1, 13)), (24, (8, 3))]
)
def test_an_iteration_budget_is_cut_into_whole_epochs_exactly(iterations, split):
    epochs, steps = TrainingBudget(iterations=iterations).epochs_and_steps()
    assert (epochs, steps) == split
    assert epochs * steps == iterations


@pytest.mark.parametrize(
    "budget",
    [
        TrainingBudget(iterations=0),
        TrainingBudget(minutes=0),
        TrainingBudget(minutes=-1.0),
        TrainingBudget(iterations=5, minutes=1.0),
    ],
)
def test_a_budget_that_is_not_positive_or_twice_given_is_refused(budget):
    with pytest.raises(SamsegInputError, match=r"^--(iterations|minutes)"):
        budget.check()


def test_generated_budget_trainers_are_registered_subclasses_with_the_budget(tmp_path):
    budget = TrainingBudget(iterations=30)
    write_budget_trainers(tmp_path, ["SAMLoRATrainer"], budget)
    environ = {"SAMSEG_extTrainer": str(tmp_path)}
    name = budget_trainer_name("SAMLoRATrainer", budget)
    assert name == "SAMLoRATrainer_30it"
    assert name in [entry.name for entry in available_trainers(environ)]
    trainer = trainer_class(name, environ)
    assert issubclass(trainer, trainer_class("SAMLoRATrainer"))
    assert (trainer.num_epochs, trainer.num_iterations_per_epoch) == (10, 3)
    assert trainer.warmup_iterations == 3
    assert trainer.num_val_iterations_per_epoch == 3


def test_a_minutes_budget_trainer_stops_by_time(tmp_path):
    budget = TrainingBudget(minutes=2.5)
    write_budget_trainers(tmp_path, ["SAMLoRATrainer"], budget)
    trainer = trainer_class("SAMLoRATrainer_2p5min", {"SAMSEG_extTrainer": str(tmp_path)})
    assert issubclass(trainer, TimeBudget)
    assert trainer.budget_seconds == 150.0
    assert trainer.num_iterations_per_epoch == 20


class _History:
    def __init__(self) -> None:
        self.epoch_seconds: list[float] = []


class _Scheduler:
    def __init__(self) -> None:
        self.last_epoch, self.warmup_iterations, self.total_iterations = 0, 5, 2000


class _Trainer:
    num_epochs = 100
    num_iterations_per_epoch = 20

    def __init__(self) -> None:
        self.history, self.current_epoch, self.scheduler = _History(), 0, _Scheduler()
        self.planned: list[int] = []

    def train_one_epoch(self) -> None:
        self.planned.append(self.scheduler.total_iterations)
        self.history.epoch_seconds.append(4.0)
        self.scheduler.last_epoch += self.num_iterations_per_epoch
        self.current_epoch += 1


class _Budgeted(TimeBudget, _Trainer):
    budget_seconds = 10.0


def test_the_time_budget_ends_training_after_the_epoch_that_passes_it():
    trainer = _Budgeted()
    while trainer.current_epoch < trainer.num_epochs:
        trainer.train_one_epoch()
    assert trainer.current_epoch == 3  # 4 s, 8 s, 12 s >= 10 s
    assert trainer.num_epochs == 3
    # 20 steps per 4 s: after epoch 1, 6 s left fit 30 more steps; after epoch 2, 2 s fit 10
    assert trainer.planned == [2000, 50, 50], "the poly decay is planned to end with the budget"
