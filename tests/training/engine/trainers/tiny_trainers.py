"""Tiny trainer variants for the engine tests, found through SAMSEG_extTrainer (this folder)."""

from __future__ import annotations

from samseg.training.data import AugmentationSettings
from samseg.training.trainers.full_finetune import SAMFullFineTuneTrainer
from samseg.training.trainers.lora import SAMLoRATrainer


class TinyTrainer(SAMFullFineTuneTrainer):
    """Two epochs of three iterations on vit_tiny, no augmentation, data made inline."""

    num_epochs = 2
    num_iterations_per_epoch = 3
    num_val_iterations_per_epoch = 1
    save_every = 1
    batch_size = 2
    warmup_iterations = 2
    initial_lr = 1e-3
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"


class TinyLoRATrainer(SAMLoRATrainer):
    """SAMLoRATrainer's network and freezing on vit_tiny, one short epoch."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"


class SlowTinyTrainer(TinyTrainer):
    """Four epochs of many iterations, with a background data worker: time to be killed."""

    num_epochs = 4
    num_iterations_per_epoch = 12
    num_workers = 1


class OverfitTrainer(TinyTrainer):
    """Learns one case by heart: 150 steps without augmentation (see test_overfit)."""

    num_epochs = 6
    num_iterations_per_epoch = 25
    save_every = 100
    batch_size = 4
    initial_lr = 2e-3
    warmup_iterations = 10
    foreground_oversampling = 0.5


class TinyDistributedTrainer(TinyTrainer):
    """One epoch of two iterations (global batch 2: one slice per rank with two ranks)."""

    num_epochs = 1
    num_iterations_per_epoch = 2
