"""Tiny trainer variants for the engine tests, found through SAMSEG_extTrainer (this folder)."""

from __future__ import annotations

import random

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from samseg.training.data import AugmentationSettings
from samseg.training.distributed import unwrap_model
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
    """Three epochs of many iterations, with a background data worker: time to be killed."""

    num_epochs = 3
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
    """One epoch of two iterations (global batch 2: one slice per rank with two ranks).

    Every rank writes its weights before and after training to
    ``rank_{RANK}_initial_weights.pth`` and ``rank_{RANK}_weights.pth`` in the fold folder, so
    a test can check that the ranks trained one network together.
    """

    num_epochs = 1
    num_iterations_per_epoch = 2

    def initialize(self, *, pretrained: bool = True) -> None:
        super().initialize(pretrained=pretrained)
        self._save_rank_weights("initial_weights")

    def run_training(self) -> None:
        super().run_training()
        self._save_rank_weights("weights")

    def _save_rank_weights(self, what: str) -> None:
        self.output_folder.mkdir(parents=True, exist_ok=True)
        path = self.output_folder / f"rank_{self.distributed.rank}_{what}.pth"
        torch.save(unwrap_model(self.network).state_dict(), path)


def random_logit_dropout(module: nn.Module, inputs: object, output: object) -> object:
    """Forward hook: in training mode, dropout on the logits, scaled by a numpy and a Python
    random draw (all three global generators are consumed)."""
    if not module.training:
        return output
    scale = 1.0 + 0.1 * float(np.random.rand()) + 0.1 * random.random()
    return output._replace(logits=F.dropout(output.logits, p=0.2, training=True) * scale)


class RandomDrawsTinyTrainer(TinyTrainer):
    """TinyTrainer whose training forward draws from the global torch, numpy and Python random
    generators, so a resumed run is exact only if ``--c`` restores all three."""

    def initialize(self, *, pretrained: bool = True) -> None:
        super().initialize(pretrained=pretrained)
        unwrap_model(self.network).register_forward_hook(random_logit_dropout)
