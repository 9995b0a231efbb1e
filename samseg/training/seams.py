"""The seams of :class:`~samseg.training.trainer.SAMTrainer`: the small methods a method's
trainer overrides, with their defaults (prompt-free multi-class SAM, CE + Dice, one parameter
group, one forward pass per batch).

:class:`TrainerSeams` is a base of ``SAMTrainer`` only; its methods read the trainer's
attributes (``network_spec``, ``mixed``, ``network``, ``loss``, the class attributes).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from samseg.models import apply_freezing, build_sam
from samseg.models.freezing import ParameterCount
from samseg.training.batch import TrainingBatch
from samseg.training.data import AugmentationSettings
from samseg.training.distributed import unwrap_model
from samseg.training.loss import IGNORE_INDEX, DiceCELoss, pseudo_dice


class TrainerSeams:
    """The overridable steps of a trainer (see the module docstring)."""

    def build_network(self, checkpoint: Path | None) -> nn.Module:
        """Seam: the network, from SAM weights ``checkpoint`` (``None``: random weights).

        Default: ``build_sam`` of :attr:`network_spec` (a
        :class:`~samseg.models.segmenter.SamSegmenter`), on the CPU.
        """
        spec = self.network_spec
        return build_sam(
            spec.model_type,
            spec.input_size,
            checkpoint,
            num_classes=spec.num_classes,
            precision=self.mixed.precision,
            lora=spec.lora,
        )

    def configure_trainable(self, network: nn.Module) -> list[ParameterCount]:
        """Seam: set which parameters train (``requires_grad``); return the counts the log
        shows. Default: :attr:`freezing_policy` (``samseg.models.freezing``)."""
        return apply_freezing(network, self.freezing_policy)

    def build_loss(self) -> nn.Module:
        """Seam: the loss module (called once, by ``__init__``). Default: CE + soft Dice."""
        return DiceCELoss(
            ce_weight=self.ce_weight, dice_weight=self.dice_weight, ignore_index=IGNORE_INDEX
        )

    def parameter_groups(self, network: nn.Module) -> list[dict]:
        """Seam: the optimizer's parameter groups; a group may set its own ``lr`` (peak rate,
        which the warm-up/poly schedule scales) and ``weight_decay``. Default: one group of
        every trainable parameter at :attr:`initial_lr`."""
        return [{"params": [p for p in network.parameters() if p.requires_grad]}]

    def network_logits(self, batch: TrainingBatch) -> torch.Tensor:
        """(B, C, S, S) fp32 prompt-free logits of a batch: the network on its images, or
        the decoder alone on its cached embeddings."""
        if batch.from_cache:
            return unwrap_model(self.network).decode_classes(batch.embeddings).logits
        return self.network(batch.images).logits

    def batch_loss(self, batch: TrainingBatch) -> torch.Tensor:
        """Seam: the scalar loss of one training batch (with its graph); a trainer may run
        several (prompted) passes and sum their losses. The engine does the rest."""
        return self.loss(self.network_logits(batch), batch.target)

    def validation_counts(self, batch: TrainingBatch) -> tuple[float, torch.Tensor]:
        """Seam: one validation batch's loss and (3, C) int64 pseudo-Dice counts (true
        positives, false positives, false negatives per class), under ``no_grad``."""
        logits = self.network_logits(batch)
        counts = pseudo_dice(logits, batch.target, self.network_spec.num_classes, IGNORE_INDEX)
        return float(self.loss(logits, batch.target)), torch.stack(counts)

    @property
    def training_augmentation(self) -> AugmentationSettings:
        """The augmentation training batches get: :attr:`augmentation`, or none when the
        trainer reads cached embeddings."""
        return AugmentationSettings.none() if self.embedding_cache else self.augmentation
