"""Interactive fine-tuning (P²SAM appendix B): SAM trained with simulated prompts, so it stays
promptable (points, boxes, mask prompts) for P²SAM and for a clinician's corrective clicks.

Every sample of a batch is one (slice, class) pair with a binary target; per batch, one
simulated interaction of 11 steps (``samseg.training.interactive``) and the mean of the steps'
losses. The checkpoint is of kind ``promptable_sam``: its prompt-free class head is untrained
(frozen here), so the fold's end-of-training prompt-free validation is skipped; the per-epoch
pseudo-Dice, which selects ``checkpoint_best.pth``, is the box and 1-point prompted one.

Variants: :class:`SAMInteractiveTrainer` fine-tunes everything, :class:`SAMInteractiveLoRATrainer`
LoRA (rank 1 on q, k, v and proj) and the mask decoder, :class:`SAMInteractiveDecoderOnlyTrainer`
the prompt encoder and mask decoder from the embedding cache, and
:class:`SAMInteractiveDemoLiteMedSAMTrainer` does that on the pretrained LiteMedSAM, bf16 on the
CPU. See ``documentation/training.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import torch
from torch import nn

from samseg.evaluation import EvaluationSummary
from samseg.models import LoraSettings, apply_freezing
from samseg.models.freezing import ParameterCount, count_parameters
from samseg.models.segmenter import SamSegmenter
from samseg.training.amp import MixedPrecision
from samseg.training.batch import TrainingBatch
from samseg.training.cache import EmbeddingCacheSettings
from samseg.training.checkpoints import CHECKPOINT_FINAL
from samseg.training.distributed import unwrap_model
from samseg.training.interactive import (
    VALIDATION_PROMPTS,
    BinaryTargets,
    InteractionSettings,
    InteractiveLoss,
    binary_targets,
    interaction_losses,
    prompted_validation,
)
from samseg.training.loop import foreground_pseudo_dice
from samseg.training.trainer import SAMTrainer

CLASS_HEAD = re.compile(r"^mask_decoder\.(class_tokens|class_hypernetworks_mlps)\.")
"""The prompt-free class head, which interactive training leaves untrained (frozen)."""

STEM_AND_NECK = re.compile(r"(^|\.)(patch_embed|neck)\.")
"""The image encoder's patch embedding and neck (the official LoRA mode trains them)."""

LR_REFERENCE_BATCH = 256
"""The official code scales its learning rate by batch / 256 (``scale_lr_by_batch``)."""

GENERATOR_STATE_KEY = "interaction_generator_state"


class SAMInteractiveTrainer(SAMTrainer):
    """Interactive fine-tune (P²SAM): simulated prompts, single-mask output; all of SAM trains.

    Attributes (besides ``SAMTrainer``'s):
        interaction: the simulated interaction and loss settings.
        optimizer_step_per_interaction: one optimizer step after every step of the
            interaction (the official code: 11 per batch) instead of one per batch on the
            mean of the steps' losses; the learning-rate schedule steps once per batch.
        scale_lr_by_batch: the official code's learning rate, ``initial_lr`` x global batch
            / 256; the log states the effective rate either way.
        train_stem_and_neck: LoRA variants: also train the encoder's patch embedding and neck
            and the prompt encoder (the official code); by default LoRA + mask decoder, as
            the paper says.
    """

    freezing_policy = "full"
    interaction: InteractionSettings = InteractionSettings()
    optimizer_step_per_interaction: bool = False
    scale_lr_by_batch: bool = False
    train_stem_and_neck: bool = False
    foreground_oversampling = 1.0
    initial_lr = 1e-5
    weight_decay = 0.01

    def __init__(self, **kwargs) -> None:
        """As :class:`SAMTrainer`; the network is of kind ``promptable_sam``.

        Raises:
            SamsegConfigError: several ranks (the prompted passes bypass DDP's forward).
        """
        super().__init__(**kwargs)
        self.require_one_rank("interactive training runs on one device")
        self.network_spec = replace(self.network_spec, promptable_only=True)
        self.interaction_generator = torch.Generator().manual_seed(self.seed)
        self.first_prompt_probabilities = self.interaction.first_prompt_probabilities(
            self.network_spec.num_classes - 1
        )
        self._epoch_samples = [0, 0]
        self._epoch_modes: dict[str, torch.Tensor] = {}

    @property
    def effective_lr(self) -> float:
        """The peak learning rate the optimizer uses (see :attr:`scale_lr_by_batch`)."""
        if not self.scale_lr_by_batch:
            return self.initial_lr
        batch = self.batch_size or self.configuration.batch_size
        return self.initial_lr * batch / LR_REFERENCE_BATCH

    def initialize(self, *, pretrained: bool = True) -> None:
        """As :class:`SAMTrainer`, then log the interaction's settings."""
        super().initialize(pretrained=pretrained)
        self.log.log(
            f"interactive training: effective peak lr {self.effective_lr:g}"
            f"{' (initial_lr x batch / 256)' if self.scale_lr_by_batch else ''}, first prompt "
            f"(none, point, box) probabilities "
            f"{tuple(round(p, 3) for p in self.first_prompt_probabilities)}, "
            f"{self.interaction.corrective_steps} corrective steps, optimizer step per "
            f"{'interaction step' if self.optimizer_step_per_interaction else 'batch'}"
        )

    def build_loss(self) -> nn.Module:
        """Dice + focal + IoU-head MSE of one interaction step."""
        settings = self.interaction
        return InteractiveLoss(
            focal_weight=settings.focal_weight,
            focal_alpha=settings.focal_alpha,
            focal_gamma=settings.focal_gamma,
            iou_weight=settings.iou_weight,
        )

    def configure_trainable(self, network: nn.Module) -> list[ParameterCount]:
        """:attr:`freezing_policy`, the class head frozen; LoRA: the prompt encoder frozen
        unless :attr:`train_stem_and_neck` (which unfreezes patch embedding and neck too)."""
        apply_freezing(network, self.freezing_policy)
        lora = self.freezing_policy == "lora"
        for name, parameter in network.named_parameters():
            if CLASS_HEAD.match(name):
                parameter.requires_grad_(False)
            elif lora and name.startswith("prompt_encoder."):
                parameter.requires_grad_(self.train_stem_and_neck)
            elif lora and self.train_stem_and_neck and STEM_AND_NECK.search(name):
                parameter.requires_grad_(True)
        return count_parameters(network)

    def parameter_groups(self, network: nn.Module) -> list[dict]:
        """One group of the trainable parameters at :attr:`effective_lr`."""
        trainable = [p for p in network.parameters() if p.requires_grad]
        return [{"params": trainable, "lr": self.effective_lr}]

    def _kept_embeddings(
        self, batch: TrainingBatch, generator: torch.Generator
    ) -> tuple[SamSegmenter, BinaryTargets, torch.Tensor | None]:
        """The network, the batch's binary targets and the kept samples' embeddings (``None``
        when no sample has foreground)."""
        network = unwrap_model(self.network)
        targets = binary_targets(batch.target, batch.sampled_classes, generator)
        if targets.count == 0:
            return network, targets, None
        if batch.from_cache:
            return network, targets, batch.embeddings[targets.index]
        return network, targets, network.encode(batch.images[targets.index]).image_embeddings

    def batch_loss(self, batch: TrainingBatch) -> torch.Tensor | Iterator[torch.Tensor]:
        """The mean loss of one simulated interaction, or (with
        :attr:`optimizer_step_per_interaction`) the steps' losses one by one. Samples
        without foreground are left out; a batch without any gives a zero loss."""
        network, targets, embeddings = self._kept_embeddings(batch, self.interaction_generator)
        self._epoch_samples[0] += batch.size
        self._epoch_samples[1] += batch.size - targets.count
        if embeddings is None:
            trainable = [p for p in network.parameters() if p.requires_grad]
            return sum(p.sum() for p in trainable) * 0.0
        losses = interaction_losses(
            network,
            embeddings,
            targets,
            loss=self.loss,
            settings=self.interaction,
            first_prompt_probabilities=self.first_prompt_probabilities,
            generator=self.interaction_generator,
        )
        if self.optimizer_step_per_interaction:
            return losses
        steps = list(losses)
        return sum(steps) / len(steps)

    def validation_counts(self, batch: TrainingBatch) -> tuple[float, torch.Tensor]:
        """Loss and (3, C) counts of the box and 1-point prompted predictions, pooled."""
        num_classes = self.network_spec.num_classes
        generator = torch.Generator().manual_seed(self.seed)
        network, targets, embeddings = self._kept_embeddings(batch, generator)
        if embeddings is None:
            return 0.0, torch.zeros(3, num_classes, dtype=torch.int64)
        loss, counts = prompted_validation(
            network, embeddings, targets, loss=self.loss, num_classes=num_classes
        )
        for mode, mode_counts in counts.items():
            self._epoch_modes[mode] = self._epoch_modes.get(mode, 0) + mode_counts
        return loss, sum(counts.values())

    def train_one_epoch(self) -> None:
        """As :class:`SAMTrainer`, then log the box and 1-point pseudo-Dice and how many
        training samples had no foreground."""
        self._epoch_samples = [0, 0]
        self._epoch_modes = {}
        super().train_one_epoch()
        seen, skipped = self._epoch_samples
        dice = {
            mode: foreground_pseudo_dice(self._epoch_modes[mode])
            for mode in VALIDATION_PROMPTS
            if mode in self._epoch_modes
        }
        shown = ", ".join(
            f"{mode} {[round(d, 4) for d in values]}" for mode, values in dice.items()
        )
        self.log.log(
            f"prompted pseudo Dice per class: {shown or 'no validation sample'}; "
            f"{skipped} of {seen} training samples had no foreground and were left out"
        )

    def checkpoint_state(self) -> dict:
        """As :class:`SAMTrainer`, with the interaction generator's state."""
        return {
            **super().checkpoint_state(),
            GENERATOR_STATE_KEY: self.interaction_generator.get_state(),
        }

    def restore_trainer_state(self, checkpoint: dict) -> None:
        """Restore the interaction generator saved by :meth:`checkpoint_state`."""
        state = checkpoint.get(GENERATOR_STATE_KEY)
        if state is not None:
            self.interaction_generator.set_state(state)

    def perform_validation(
        self, checkpoint_name: str = CHECKPOINT_FINAL, *, save_probabilities: bool = False
    ) -> EvaluationSummary | None:
        """Skipped (logged): prompt-free prediction of a ``promptable_sam`` network would be
        its untrained class head. Evaluate with prompts instead (``samseg_evaluate_prompts``,
        ``samseg_predict --prompts``)."""
        self.log.log(
            f"{type(self).__name__}: no prompt-free validation of a promptable_sam network; "
            "evaluate it with prompts (samseg_evaluate_prompts, samseg_predict --prompts)"
        )
        return None


class SAMInteractiveLoRATrainer(SAMInteractiveTrainer):
    """Interactive fine-tune with LoRA (rank 1, q, k, v and proj) and the mask decoder."""

    lora = LoraSettings(rank=1, alpha=1, targets=("q", "k", "v", "proj"))
    freezing_policy = "lora"
    initial_lr = 1e-4


class SAMInteractiveDecoderOnlyTrainer(SAMInteractiveTrainer):
    """Interactive fine-tune of prompt encoder and mask decoder from cached embeddings."""

    freezing_policy = "decoder"
    embedding_cache = EmbeddingCacheSettings()
    initial_lr = 1e-4
    num_workers = 0


class SAMInteractiveDemoLiteMedSAMTrainer(SAMInteractiveDecoderOnlyTrainer):
    """Interactive decoder-only fine-tune of the pretrained LiteMedSAM, bf16 on the CPU."""

    model_type = "litemedsam"
    num_epochs = 10
    num_iterations_per_epoch = 20
    num_val_iterations_per_epoch = 4
    save_every = 5
    batch_size = 4
    warmup_iterations = 10

    def __init__(self, **kwargs) -> None:
        """As :class:`SAMInteractiveTrainer`; on the CPU the network computes under bf16
        autocast, as ``SAMDemoLiteMedSAMTrainer`` does."""
        super().__init__(**kwargs)
        if self.device.type == "cpu":
            self.mixed = MixedPrecision("bf16", use_grad_scaler=False)
