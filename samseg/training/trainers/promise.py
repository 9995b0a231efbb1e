"""ProMISe trainers: SAM frozen end to end; only the auto-prompting module (APM), the
pattern embedding (PaE) and, for several classes, the presence head train.

Every sample is one slice with all its foreground classes: one decoder pass per (slice,
class) with the APM's prompts (or label-sampled points: IPS alone) and the class's IPS
tokens; loss BCE + Dice on the first multimask output, upsampled to the label, one sigmoid.
Adam at a constant 1e-5 on the trainable parameters only (the official schedule never ran).
With a frozen encoder the trainers read cached embeddings and block outputs; the ``NoCache``
variant encodes images (with augmentation) instead. The checkpoint is of kind ``promise``;
``checkpoint_best.pth`` is chosen by the EMA pseudo-Dice of the fold's validation cases.

Names: :class:`ProMISeTrainer` (CNN APM + IPS), :class:`ProMISeAPMTrainer`,
:class:`ProMISeIPSTrainer` and the variants below. See ``documentation/promise.md``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from samseg.models import build_sam
from samseg.models.freezing import ParameterCount, count_parameters
from samseg.models.promise import ProMISeNetwork, ProMISeSettings, ProMISeSpec, apm_blocks
from samseg.models.promise.settings import ApmKind, ApmPrompt
from samseg.training.batch import TrainingBatch
from samseg.training.cache import EmbeddingCacheSettings
from samseg.training.distributed import unwrap_model
from samseg.training.loss import IGNORE_INDEX, pseudo_dice
from samseg.training.promise import ProMISeLoss, label_points
from samseg.training.trainer import SAMTrainer

POINTS_GENERATOR_KEY = "promise_points_generator_state"


class ProMISeTrainer(SAMTrainer):
    """ProMISe: CNN APM (8 + 8 points) + IPS tokens on a frozen SAM, from cached features.

    Attributes (besides ``SAMTrainer``'s):
        apm: ``cnn``, ``transformer`` or ``None`` (IPS alone).
        apm_prompt: ``points`` (the paper) or ``box`` (samseg's APM-box extension).
        ips: add the pattern embedding's IPS tokens.
        positive_points, negative_points: point slots per class (8 + 8; 3P 1 + 2; 5P 2 + 3).
        prompts_from_label: decode with points sampled from the label instead of the APM's
            (IPS alone; validation draws them with a fixed seed).
        class_conditional: one APM/PaE predicting for every class; ``False``: one binary
            APM/PaE per class (the baseline).
        presence_head: a per-slice presence logit per class; ``None``: with more than one
            foreground class.
        presence_weight: weight of the presence BCE in the loss.
        double_sigmoid: the official loss on sigmoid outputs (parity only).
        cnn_widths, cnn_depths, fusion_channels, transformer_width, transformer_heads,
            pae_hidden: module sizes (see ``ProMISeSettings``).
    """

    apm: ApmKind | None = "cnn"
    apm_prompt: ApmPrompt = "points"
    ips: bool = True
    positive_points: int = 8
    negative_points: int = 8
    prompts_from_label: bool = False
    class_conditional: bool = True
    presence_head: bool | None = None
    presence_weight: float = 1.0
    double_sigmoid: bool = False
    cnn_widths: tuple[int, ...] = (64, 128, 256, 512)
    cnn_depths: tuple[int, ...] = (3, 4, 6, 3)
    fusion_channels: int = 256
    transformer_width: int = 256
    transformer_heads: int = 8
    pae_hidden: int = 1024
    freezing_policy = "frozen"
    embedding_cache = EmbeddingCacheSettings()
    num_workers = 0
    num_epochs = 200
    initial_lr = 1e-5
    weight_decay = 0.0
    warmup_iterations = 0
    poly_exponent = 0.0
    batch_size = 8
    foreground_oversampling = 0.33

    def __init__(self, **kwargs) -> None:
        """As :class:`SAMTrainer`; the network is of kind ``promise``.

        Raises:
            SamsegConfigError: several ranks (the ProMISe passes bypass DDP's forward).
        """
        super().__init__(**kwargs)
        self.require_one_rank("ProMISe trains on one device")
        self.network_spec = ProMISeSpec(self.network_spec, self.promise_settings())
        if self.embedding_cache is not None:
            self.embedding_cache = replace(
                self.embedding_cache, return_blocks=self.network_spec.settings.blocks
            )
        self.points_generator = torch.Generator().manual_seed(self.seed)

    def promise_settings(self) -> ProMISeSettings:
        """The network's settings from the class attributes, the plans' classes and the
        backbone's encoder family (which blocks the APM fuses)."""
        classes = self.network_spec.num_classes - 1
        presence = classes > 1 if self.presence_head is None else self.presence_head
        with_apm = self.apm is not None
        return ProMISeSettings(
            foreground_classes=classes,
            apm=self.apm,
            apm_prompt=self.apm_prompt,
            ips=self.ips,
            positive_points=self.positive_points,
            negative_points=self.negative_points,
            class_conditional=self.class_conditional,
            presence_head=presence and with_apm,
            blocks=apm_blocks(self.network_spec.model_type) if with_apm else (),
            cnn_widths=self.cnn_widths,
            cnn_depths=self.cnn_depths,
            fusion_channels=self.fusion_channels,
            transformer_width=self.transformer_width,
            transformer_heads=self.transformer_heads,
            pae_hidden=self.pae_hidden,
        )

    def build_network(self, checkpoint: Path | None) -> nn.Module:
        """SAM from ``checkpoint`` (official, LiteMedSAM, or a samseg checkpoint such as an
        interactive ``promptable_sam`` one) with fresh APM and PaE."""
        backbone = self.network_spec.backbone
        sam = build_sam(
            backbone.model_type,
            backbone.input_size,
            checkpoint,
            num_classes=backbone.num_classes,
            precision=self.mixed.precision,
        )
        return self.network_spec.wrap(sam)

    def configure_trainable(self, network: ProMISeNetwork) -> list[ParameterCount]:
        """Every SAM tensor frozen (by module object); the APM, PaE and presence head
        train."""
        network.sam.requires_grad_(False)
        network.heads.requires_grad_(True)
        return count_parameters(network)

    def build_loss(self) -> nn.Module:
        """BCE + Dice (+ presence BCE); one sigmoid unless :attr:`double_sigmoid`."""
        return ProMISeLoss(presence_weight=self.presence_weight, double_sigmoid=self.double_sigmoid)

    def parameter_groups(self, network: ProMISeNetwork) -> list[dict]:
        """One group: the APM, PaE and presence-head parameters (never a SAM tensor)."""
        return [{"params": [p for p in network.heads.parameters() if p.requires_grad]}]

    def _outputs(self, batch: TrainingBatch, generator: torch.Generator):
        """The network's :class:`~samseg.models.promise.ProMISeOutput` of a batch, from
        cached or freshly encoded (gradient-free) features."""
        network: ProMISeNetwork = unwrap_model(self.network)
        blocks = network.settings.blocks
        if batch.from_cache:
            embeddings = batch.embeddings
            features = [batch.block_features[block] for block in blocks]
        else:
            encoded = network.encode(batch.images, blocks)
            embeddings, features = encoded.image_embeddings, encoded.block_features
        points = None
        if self.prompts_from_label:
            seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
            settings = network.settings
            points = label_points(
                batch.target,
                settings.foreground_classes,
                settings.positive_points,
                settings.negative_points,
                np.random.default_rng(seed),
            )
        return network, network.segment(embeddings, features, points=points)

    def batch_loss(self, batch: TrainingBatch) -> torch.Tensor:
        """The loss of every class's first multimask output, upsampled to the label."""
        network, output = self._outputs(batch, self.points_generator)
        logits = network.sam.upscale_logits(output.low_res_logits)
        return self.loss(logits, batch.target, output.presence_logits)

    def validation_counts(self, batch: TrainingBatch) -> tuple[float, torch.Tensor]:
        """Loss and (3, C) pseudo-Dice counts of the predictor's class decision (label points
        drawn with a fixed seed for IPS alone)."""
        generator = torch.Generator().manual_seed(self.seed)
        network, output = self._outputs(batch, generator)
        logits = network.sam.upscale_logits(output.low_res_logits)
        loss = float(self.loss(logits, batch.target, output.presence_logits))
        counts = pseudo_dice(
            network.class_logits(output), batch.target, self.network_spec.num_classes, IGNORE_INDEX
        )
        return loss, torch.stack(counts)

    def checkpoint_state(self) -> dict:
        """As :class:`SAMTrainer`, with the label-point generator's state."""
        return {
            **super().checkpoint_state(),
            POINTS_GENERATOR_KEY: self.points_generator.get_state(),
        }

    def restore_trainer_state(self, checkpoint: dict) -> None:
        """Restore the label-point generator saved by :meth:`checkpoint_state`."""
        state = checkpoint.get(POINTS_GENERATOR_KEY)
        if state is not None:
            self.points_generator.set_state(state)


class ProMISeAPMTrainer(ProMISeTrainer):
    """APM alone (CNN, 8 + 8 points): SAM's own tokens, no IPS."""

    ips = False


class ProMISeIPSTrainer(ProMISeTrainer):
    """IPS alone: 8 + 8 points sampled from the label, IPS tokens trained (no APM)."""

    apm = None
    prompts_from_label = True


class ProMISeTransformerTrainer(ProMISeTrainer):
    """ProMISe with the Transformer APM."""

    apm = "transformer"


class ProMISeAPMTransformerTrainer(ProMISeAPMTrainer):
    """Transformer APM alone."""

    apm = "transformer"


class ProMISeAPMBoxTrainer(ProMISeAPMTrainer):
    """samseg's APM-box alone: the APM predicts a box (two corners) for box-trained SAMs."""

    apm_prompt = "box"


class ProMISeBoxTrainer(ProMISeTrainer):
    """samseg's APM-box + IPS."""

    apm_prompt = "box"


class ProMISe3PTrainer(ProMISeTrainer):
    """ProMISe with the paper's 3P slots: 1 positive, 2 negative points."""

    positive_points = 1
    negative_points = 2


class ProMISe5PTrainer(ProMISeTrainer):
    """ProMISe with the paper's 5P slots: 2 positive, 3 negative points."""

    positive_points = 2
    negative_points = 3


class ProMISeBinaryPerClassTrainer(ProMISeTrainer):
    """Baseline: one independent binary APM + PaE per class on the shared frozen SAM."""

    class_conditional = False


class ProMISeNoCacheTrainer(ProMISeTrainer):
    """ProMISe from images (the frozen encoder runs every step), with the augmentation."""

    embedding_cache = None
    num_workers = 2


class ProMISeLegacyLossTrainer(ProMISeTrainer):
    """ProMISe with the official double-sigmoid loss (parity runs only)."""

    double_sigmoid = True
