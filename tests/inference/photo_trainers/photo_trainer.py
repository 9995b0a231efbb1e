"""A two-step vit_tiny trainer for the photo dataset test, found through SAMSEG_extTrainer."""

from __future__ import annotations

from samseg.training.data import AugmentationSettings
from samseg.training.trainers.full_finetune import SAMFullFineTuneTrainer


class PhotoTinyTrainer(SAMFullFineTuneTrainer):
    """One epoch of two iterations on vit_tiny, no augmentation, no data workers."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"
