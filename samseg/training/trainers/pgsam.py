"""PG-SAM trainers: prompt-free multi-organ SAM guided by per-class text priors.

The network is a :class:`~samseg.models.pgsam.PGSAMSegmenter` (kind ``pgsam``: the
checkpoint rebuilds it, text embeddings included, without a text encoder). The text source
comes from ``SAMSEG_pgsam_text`` or a ``pgsam_text.json`` beside the dataset
(``samseg.training.pgsam_text``), except for the learned-embedding ablations.

Fixed names: :class:`PGSAMTrainer` (classwise guide, text from the configured source, LoRA
rank 4 on the encoder's q and v), :class:`PGSAMLearnedPriorTrainer` (learned class
embeddings, no text encoder), :class:`PGSAMReleasedTrainer` (the released guide formula).
Also :class:`PGSAMReleasedLossTrainer` (the released two-resolution loss) and the
frozen-encoder variants :class:`PGSAMDecoderOnlyTrainer` and
:class:`PGSAMDecoderOnlyLearnedPriorTrainer` and :class:`PGSAMDecoderOnlyReleasedTrainer`, which
train from the embedding cache with the level blocks' outputs. See documentation/pgsam.md.
"""

from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Literal

import torch
from peft import get_peft_model_state_dict, set_peft_model_state_dict
from torch import nn

from samseg.models import LoraSettings, apply_freezing
from samseg.models.encoders import get_encoder_family
from samseg.models.freezing import ParameterCount, count_parameters
from samseg.models.pgsam import GuideMode, PGSAMNetworkSpec, PGSAMOptions, TextPriorSettings
from samseg.models.pgsam.network import PGSAMOutput, PGSAMSegmenter
from samseg.models.segmenter import SegmenterOutput
from samseg.models.spec import NetworkSpec
from samseg.paths import raw_root
from samseg.training.batch import TrainingBatch
from samseg.training.cache import EmbeddingCacheSettings
from samseg.training.distributed import unwrap_model
from samseg.training.loss import IGNORE_INDEX, pseudo_dice
from samseg.training.pgsam_loss import ReleasedPGSAMLoss
from samseg.training.pgsam_text import (
    TEXT_CACHE_FOLDER,
    TextPrior,
    configured_text_settings,
    prepare_text_prior,
)
from samseg.training.trainer import SAMTrainer

UNUSED_SAM_HEADS = re.compile(
    r"^mask_decoder\.(class_tokens|class_hypernetworks_mlps|output_hypernetworks_mlps|"
    r"iou_prediction_head)\."
)
"""SAM decoder parts PG-SAM's prompt-free head does not use (frozen, not trained)."""

TEXT_LORA_KEY = "pgsam_text_lora_weights"
"""Checkpoint entry of the text encoder's LoRA weights (training state; prediction uses the
stored embeddings)."""

LossMode = Literal["nnunet", "released"]


class PGSAMTrainer(SAMTrainer):
    """PG-SAM: classwise guide, configured text source, LoRA (r 4, q and v) on the encoder.

    Attributes (besides ``SAMTrainer``'s):
        guide: ``classwise`` or ``released``.
        text_settings: the text source; ``None``: the configured one (module docstring).
        loss_mode: ``nnunet`` (samseg's DiceCELoss, default) or ``released``
            (``samseg.training.pgsam_loss``).
        imo_iterations: refinement iterations of the mask optimizer.
        attention_grid: largest grid the guide fusion's attention runs on.
        level_blocks: encoder blocks fused by MLFF; ``None``: the encoder family's levels.
    """

    lora = LoraSettings(rank=4, alpha=4, targets=("q", "v"))
    freezing_policy = "lora"
    initial_lr = 2.6e-3
    weight_decay = 0.1
    guide: GuideMode = "classwise"
    text_settings: TextPriorSettings | None = None
    loss_mode: LossMode = "nnunet"
    imo_iterations: int = 1
    attention_grid: int = 16
    level_blocks: tuple[int, ...] | None = None

    def __init__(self, **kwargs) -> None:
        """As :class:`SAMTrainer`; reads the text prior (embedding the descriptions once,
        cached) and describes the ``pgsam`` network.

        Raises:
            SamsegConfigError / SamsegInputError: no or a bad text source, descriptions of
                other classes than the plans'.
        """
        super().__init__(**kwargs)
        dataset = self.plans.dataset_name
        settings = self.text_settings or configured_text_settings(
            [raw_root() / dataset, self.preprocessed_folder]
        )
        names = tuple(self.plans.label_handling.class_names)
        self.text: TextPrior = prepare_text_prior(
            settings, names, f"dataset {dataset}", self.preprocessed_folder / TEXT_CACHE_FOLDER
        )
        model_type = self.network_spec.model_type
        levels = self.level_blocks
        if levels is None:
            levels = get_encoder_family(model_type).level_blocks(model_type)
        options = PGSAMOptions(
            class_names=names,
            text_dim=self.text.dim,
            learned=settings.source == "learned",
            guide=self.guide,
            level_blocks=tuple(levels),
            iterations=self.imo_iterations,
            attention_grid=self.attention_grid,
        )
        backbone = {f.name: getattr(self.network_spec, f.name) for f in fields(NetworkSpec)}
        self.network_spec = PGSAMNetworkSpec(**backbone, pgsam=options)
        if self.embedding_cache is not None:
            self.embedding_cache = replace(self.embedding_cache, return_blocks=tuple(levels))

    def initialize(self, *, pretrained: bool = True) -> None:
        """As :class:`SAMTrainer`, then log the text prior."""
        super().initialize(pretrained=pretrained)
        text = self.text
        self.log.log(
            f"PG-SAM: guide {self.guide}, text source {text.settings.to_json()}, "
            f"{self.network_spec.pgsam.num_classes} classes x {text.dim}, cache key "
            f"{text.cache_key or '-'}, level blocks {list(self.network_spec.pgsam.level_blocks)}, "
            f"IMO iterations {self.imo_iterations}, loss {self.loss_mode}"
        )

    def build_network(self, checkpoint: Path | None) -> nn.Module:
        """The PG-SAM network with SAM's weights from ``checkpoint``, text embeddings set
        (a text encoder with LoRA goes to the training device)."""
        network = self.network_spec.build_from(checkpoint, precision=self.mixed.precision)
        if self.text.embeddings is not None:
            network.text_prior.set_embeddings(self.text.embeddings)
        if self.text.settings.text_lora_rank:
            self.text.encoder.to(self.device)
        return network

    def build_loss(self) -> nn.Module:
        """samseg's CE + Dice, or the released two-resolution loss (:attr:`loss_mode`)."""
        if self.loss_mode == "released":
            return ReleasedPGSAMLoss(ce_weight=self.ce_weight, dice_weight=self.dice_weight)
        return super().build_loss()

    def configure_trainable(self, network: nn.Module) -> list[ParameterCount]:
        """:attr:`freezing_policy` on SAM, the prompt encoder and SAM's unused heads frozen;
        PG-SAM's modules train (the text prior's embeddings in the learned ablation)."""
        apply_freezing(network, self.freezing_policy)
        for name, parameter in network.named_parameters():
            if name.startswith("prompt_encoder.") or UNUSED_SAM_HEADS.match(name):
                parameter.requires_grad_(False)
        counts = count_parameters(network)
        encoder = self.text.encoder
        if encoder is not None:
            trainable = sum(p.numel() for p in encoder.parameters() if p.requires_grad)
            total = sum(p.numel() for p in encoder.parameters())
            counts.insert(-1, ParameterCount("text_encoder", trainable, total))
        return counts

    def parameter_groups(self, network: nn.Module) -> list[dict]:
        """The network's trainable parameters, plus the text encoder's LoRA if any."""
        groups = super().parameter_groups(network)
        if self.text.encoder is not None:
            text = [p for p in self.text.encoder.parameters() if p.requires_grad]
            if text:
                groups.append({"params": text})
        return groups

    def guided_output(self, batch: TrainingBatch) -> SegmenterOutput | PGSAMOutput:
        """Logits (B, C, 4G, 4G) and (B, C, S, S) of a batch (images or cached embeddings).

        With text LoRA, training steps re-encode the descriptions and store the result as
        the network's embeddings (what the checkpoint keeps).
        """
        network: PGSAMSegmenter = unwrap_model(self.network)
        levels = self.network_spec.pgsam.level_blocks
        text = None
        if self.text.settings.text_lora_rank and network.training:
            text = self.text.current()
            network.text_prior.set_embeddings(text.detach())
        if batch.from_cache:
            blocks = [batch.block_features[index] for index in levels]
            return network.decode_guided(batch.embeddings, blocks, text)
        if text is None:
            return self.network(batch.images)
        encoded = network.encode(batch.images, levels)
        return network.decode_guided(encoded.image_embeddings, encoded.block_features, text)

    def network_logits(self, batch: TrainingBatch) -> torch.Tensor:
        """(B, C, S, S) fp32 logits of a batch."""
        return self.guided_output(batch).logits

    def batch_loss(self, batch: TrainingBatch) -> torch.Tensor:
        """The loss of :attr:`loss_mode` on one batch."""
        return self._loss(self.guided_output(batch), batch.target)

    def validation_counts(self, batch: TrainingBatch) -> tuple[float, torch.Tensor]:
        """One validation batch's loss and (3, C) pseudo-Dice counts."""
        output = self.guided_output(batch)
        classes = self.network_spec.num_classes
        counts = pseudo_dice(output.logits, batch.target, classes, IGNORE_INDEX)
        return float(self._loss(output, batch.target)), torch.stack(counts)

    def _loss(self, output: SegmenterOutput | PGSAMOutput, target: torch.Tensor) -> torch.Tensor:
        if self.loss_mode == "released":
            return self.loss(output.low_res_logits, output.logits, target)
        return self.loss(output.logits, target)

    def checkpoint_state(self) -> dict:
        """As :class:`SAMTrainer`, with the text encoder's LoRA weights when it has them (and
        the network's embeddings refreshed from them, so the two match)."""
        if self.text.settings.text_lora_rank:
            with torch.no_grad():
                unwrap_model(self.network).text_prior.set_embeddings(self.text.current())
        state = super().checkpoint_state()
        if self.text.settings.text_lora_rank:
            lora = get_peft_model_state_dict(self.text.encoder.model)
            state[TEXT_LORA_KEY] = {k: v.detach().cpu() for k, v in lora.items()}
        return state

    def restore_trainer_state(self, checkpoint: dict) -> None:
        """Restore the text encoder's LoRA weights saved by :meth:`checkpoint_state`."""
        weights = checkpoint.get(TEXT_LORA_KEY)
        if weights is not None and self.text.encoder is not None:
            set_peft_model_state_dict(self.text.encoder.model, weights)


class PGSAMLearnedPriorTrainer(PGSAMTrainer):
    """PG-SAM with learned class embeddings instead of text (the no-text ablation)."""

    text_settings = TextPriorSettings(source="learned")


class PGSAMReleasedTrainer(PGSAMTrainer):
    """PG-SAM with the released guide formula (inert as a text prior; for ablation)."""

    guide = "released"


class PGSAMReleasedLossTrainer(PGSAMTrainer):
    """PG-SAM trained with the released loss, CE + Dice at two resolutions."""

    loss_mode = "released"


class PGSAMDecoderOnlyTrainer(PGSAMTrainer):
    """PG-SAM with SAM's encoder frozen, trained from cached embeddings and level blocks."""

    lora = None
    freezing_policy = "decoder"
    embedding_cache = EmbeddingCacheSettings()
    initial_lr = 5e-4
    weight_decay = 0.01
    num_workers = 0


class PGSAMDecoderOnlyLearnedPriorTrainer(PGSAMDecoderOnlyTrainer):
    """The frozen-encoder variant with learned class embeddings (no text)."""

    text_settings = TextPriorSettings(source="learned")


class PGSAMDecoderOnlyReleasedTrainer(PGSAMDecoderOnlyTrainer):
    """The frozen-encoder variant with the released guide formula (ablation)."""

    guide = "released"
