"""Training: the trainer engine, trainer registry, splits, slice data loading, losses, schedules.

``samseg_train`` calls :func:`train` with a :class:`TrainingRequest`; trainers subclass
:class:`SAMTrainer` and are found by name with :func:`trainer_class` (see
documentation/training.md). Names are imported on first use, so ``samseg.training.defaults``
(what ``samseg_train --help`` shows) costs no torch import.
"""

from samseg.lazy_exports import exported_names, lazy_exports

_EXPORTS = {
    "checkpoints": (
        "CHECKPOINT_BEST",
        "CHECKPOINT_FINAL",
        "CHECKPOINT_LATEST",
        "load_checkpoint",
        "save_checkpoint",
    ),
    "progress": ("TrainingHistory", "plot_progress"),
    "registry": ("TrainerEntry", "available_trainers", "trainer_class"),
    "run": ("TrainingRequest", "train"),
    "trainer": ("SAMTrainer",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = exported_names(_EXPORTS)
