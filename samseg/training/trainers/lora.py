"""SAMed: LoRA on SAM's image encoder, prompt encoder and multi-class decoder fine-tuned."""

from __future__ import annotations

from samseg.models import LoraSettings
from samseg.training.trainer import SAMTrainer


class SAMLoRATrainer(SAMTrainer):
    """SAMed: LoRA rank 4 on the encoder's q and v, prompt encoder and decoder train."""

    lora = LoraSettings(rank=4, alpha=4, targets=("q", "v"))
    freezing_policy = "lora"
    initial_lr = 5e-3
    weight_decay = 0.1
    warmup_iterations = 250


class SAMLoRATrainer50Epochs(SAMLoRATrainer):
    """SAMLoRATrainer with a 50-epoch schedule."""

    num_epochs = 50
