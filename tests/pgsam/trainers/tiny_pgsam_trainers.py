"""Tiny PG-SAM trainer variants for the tests, found through SAMSEG_extTrainer (this folder):
vit_tiny from random weights, fully trained (a random encoder has nothing for LoRA to adapt),
no augmentation, data made inline."""

from __future__ import annotations

from samseg.models.pgsam import TextPriorSettings
from samseg.training.data import AugmentationSettings
from samseg.training.trainers.pgsam import PGSAMDecoderOnlyTrainer, PGSAMTrainer


class TinyPGSAMTrainer(PGSAMTrainer):
    """PGSAMTrainer's network on vit_tiny, 80 steps of batch 4, every sample with
    foreground."""

    num_epochs = 1
    num_iterations_per_epoch = 80
    num_val_iterations_per_epoch = 1
    save_every = 1
    batch_size = 4
    warmup_iterations = 5
    initial_lr = 2e-3
    foreground_oversampling = 1.0
    weight_decay = 0.01
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"
    lora = None
    freezing_policy = "full"
    attention_grid = 4


class TinyPGSAMLearnedPriorTrainer(TinyPGSAMTrainer):
    """The learned-embedding ablation of TinyPGSAMTrainer."""

    text_settings = TextPriorSettings(source="learned", learned_dim=16)


class ShortPGSAMReleasedLossTrainer(TinyPGSAMTrainer):
    """Two steps with the released loss and guide."""

    num_iterations_per_epoch = 2
    guide = "released"
    loss_mode = "released"


class ShortPGSAMDecoderOnlyTrainer(PGSAMDecoderOnlyTrainer):
    """Two steps from the embedding cache (level blocks cached too)."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    model_type = "vit_tiny"
    attention_grid = 4


class ShortPGSAMTrainer(TinyPGSAMTrainer):
    """Two steps of TinyPGSAMTrainer (text LoRA comes from the configured text settings)."""

    num_iterations_per_epoch = 2
