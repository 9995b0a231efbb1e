"""What a :class:`~samseg.training.trainer.SAMTrainer` puts into a training checkpoint and
takes back from one to continue (``--c``); the file format itself is ``checkpoints``'.

:class:`TrainerCheckpointing` is a base of ``SAMTrainer`` only; its methods read the trainer's
attributes (``network``, ``network_spec``, ``optimizer``, ``scheduler``, ``grad_scaler``,
``history``, ``plans``, ``log``).
"""

from __future__ import annotations

from pathlib import Path

from samseg.training.checkpoints import (
    capture_rng_state,
    check_continuable,
    load_checkpoint,
    restore_rng_state,
)
from samseg.training.distributed import unwrap_model
from samseg.training.progress import TrainingHistory


class TrainerCheckpointing:
    """A trainer's checkpoint state (see the module docstring)."""

    def checkpoint_state(self) -> dict:
        """Everything ``--c`` needs to continue exactly (see ``samseg.training.checkpoints``)."""
        return {
            "network_weights": unwrap_model(self.network).state_dict(),
            "network": self.network_spec.to_json(),
            "inference_allowed_mirroring_axes": list(self.training_augmentation.mirror_axes),
            "trainer_name": type(self).__name__,
            "init_args": {
                "dataset_name": self.plans.dataset_name,
                "plans_name": self.plans.plans_name,
                "configuration": self.configuration_name,
                "fold": self.fold,
                "sam_checkpoint": None if self.sam_checkpoint is None else str(self.sam_checkpoint),
                "model_type": self.network_spec.model_type,
            },
            "plans_name": self.plans.plans_name,
            "configuration": self.configuration_name,
            "fold": self.fold,
            "current_epoch": self.current_epoch,
            "optimizer_state": self.optimizer.state_dict(),
            "lr_scheduler_state": self.scheduler.state_dict(),
            "grad_scaler_state": self.grad_scaler.state_dict(),
            "logging": self.history.to_json(),
            "rng_state": capture_rng_state(),
        }

    def load_checkpoint(self, path: Path) -> None:
        """Continue from a training checkpoint: weights, epoch, optimizer, schedule, RNG.

        Raises:
            SamsegInputError: the checkpoint holds another network or trainer.
        """
        checkpoint = load_checkpoint(path)
        check_continuable(checkpoint, path, self.network_spec.to_json(), type(self).__name__)
        unwrap_model(self.network).load_state_dict(checkpoint["network_weights"])
        self.optimizer.load_state_dict(checkpoint["optimizer_state"])
        self.scheduler.load_state_dict(checkpoint["lr_scheduler_state"])
        if checkpoint["grad_scaler_state"]:
            self.grad_scaler.load_state_dict(checkpoint["grad_scaler_state"])
        self.history = TrainingHistory.from_json(checkpoint["logging"])
        self.current_epoch = int(checkpoint["current_epoch"])
        restore_rng_state(checkpoint["rng_state"])
        self.restore_trainer_state(checkpoint)
        self.log.log(f"continuing from {path} after epoch {self.current_epoch}")

    def restore_trainer_state(self, checkpoint: dict) -> None:
        """Restore what a subclass adds to :meth:`checkpoint_state` from the loaded
        ``checkpoint`` (called by :meth:`load_checkpoint` last). Default: nothing."""
