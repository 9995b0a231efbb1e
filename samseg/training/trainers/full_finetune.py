"""Full fine-tuning of SAM: every parameter of encoder, prompt encoder and decoder trains."""

from __future__ import annotations

from samseg.training.trainer import SAMTrainer


class SAMFullFineTuneTrainer(SAMTrainer):
    """Full fine-tune of SAM, prompt-free multi-class head (AdamW lr 1e-4, CE + Dice)."""

    freezing_policy = "full"
    initial_lr = 1e-4
    weight_decay = 0.01


class SAMFullFineTuneTrainer50Epochs(SAMFullFineTuneTrainer):
    """SAMFullFineTuneTrainer with a 50-epoch schedule."""

    num_epochs = 50
