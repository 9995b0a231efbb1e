"""Training: the trainer engine, trainer registry, splits, slice data loading, losses, schedules.

``samseg_train`` calls :func:`train` with a :class:`TrainingRequest`; trainers subclass
:class:`SAMTrainer` and are found by name with :func:`trainer_class` (see
documentation/training.md).
"""

from samseg.training.checkpoints import (
    CHECKPOINT_BEST,
    CHECKPOINT_FINAL,
    CHECKPOINT_LATEST,
    load_checkpoint,
    save_checkpoint,
)
from samseg.training.progress import TrainingHistory, plot_progress
from samseg.training.registry import TrainerEntry, available_trainers, trainer_class
from samseg.training.run import TrainingRequest, train
from samseg.training.trainer import SAMTrainer

__all__ = [
    "CHECKPOINT_BEST",
    "CHECKPOINT_FINAL",
    "CHECKPOINT_LATEST",
    "SAMTrainer",
    "TrainerEntry",
    "TrainingHistory",
    "TrainingRequest",
    "available_trainers",
    "load_checkpoint",
    "plot_progress",
    "save_checkpoint",
    "train",
    "trainer_class",
]
