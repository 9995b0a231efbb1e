"""Trainers for the seam and embedding-cache tests, found through SAMSEG_extTrainer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models import build_sam
from samseg.models.freezing import count_parameters
from samseg.training.data import AugmentationSettings
from samseg.training.loss import IGNORE_INDEX
from samseg.training.trainer import SAMTrainer
from samseg.training.trainers.decoder_only import SAMDecoderOnlyTrainer


class CrossEntropyOnly(nn.Module):
    """Plain cross-entropy that counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return F.cross_entropy(logits.float(), target, ignore_index=IGNORE_INDEX)


class SeamTrainer(SAMTrainer):
    """Overrides every seam: network, trainable parts, loss, groups, batch loss, validation."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    num_val_iterations_per_epoch = 1
    batch_size = 2
    warmup_iterations = 1
    initial_lr = 1e-3
    num_workers = 0
    augmentation = AugmentationSettings.none()
    model_type = "vit_tiny"
    decoder_lr_factor = 10.0

    def build_network(self, checkpoint):
        network = build_sam("vit_tiny", self.network_spec.input_size, checkpoint, num_classes=3)
        network.built_by_seam = True
        return network

    def configure_trainable(self, network):
        for name, parameter in network.named_parameters():
            parameter.requires_grad_(not name.startswith("prompt_encoder."))
        return count_parameters(network)

    def build_loss(self):
        return CrossEntropyOnly()

    def parameter_groups(self, network):
        decoder = [p for p in network.mask_decoder.parameters() if p.requires_grad]
        rest = [
            p
            for name, p in network.named_parameters()
            if p.requires_grad and not name.startswith("mask_decoder.")
        ]
        return [
            {"params": rest},
            {"params": decoder, "lr": self.initial_lr * self.decoder_lr_factor},
        ]

    def batch_loss(self, batch):
        """Two passes: the plain batch, then the batch mirrored along columns."""
        self.passes = getattr(self, "passes", 0) + 2
        first = self.loss(self.network_logits(batch), batch.target)
        flipped = self.network(batch.images.flip(-1)).logits
        return first + self.loss(flipped, batch.target.flip(-1))

    def validation_counts(self, batch):
        self.validated_batches = getattr(self, "validated_batches", 0) + 1
        return super().validation_counts(batch)


class LongerSeamTrainer(SeamTrainer):
    """SeamTrainer with two epochs of three iterations (the fixed-name schedule knobs)."""

    num_epochs = 2
    num_iterations_per_epoch = 3


class TinyDecoderOnlyTrainer(SAMDecoderOnlyTrainer):
    """SAMDecoderOnlyTrainer on vit_tiny: 80 steps of batch 4 from the embedding cache."""

    num_epochs = 2
    num_iterations_per_epoch = 40
    num_val_iterations_per_epoch = 2
    save_every = 1
    batch_size = 4
    warmup_iterations = 5
    initial_lr = 3e-3
    foreground_oversampling = 0.5
    model_type = "vit_tiny"


class TinyDecoderOnlyReseededTrainer(TinyDecoderOnlyTrainer):
    """TinyDecoderOnlyTrainer with another seed, so another random encoder (another cache),
    one short epoch."""

    num_epochs = 1
    num_iterations_per_epoch = 2
    seed = 777


class ShortDecoderOnlyTrainer(TinyDecoderOnlyTrainer):
    """Two epochs of three iterations from the embedding cache (for --c exactness)."""

    num_iterations_per_epoch = 3
    num_val_iterations_per_epoch = 1
