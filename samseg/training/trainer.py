"""SAMTrainer: the base class of every samseg trainer.

A trainer trains one fold of one plans configuration: prompt-free multi-class SAM, CE + Dice
loss, AdamW with linear warm-up then poly decay, mixed precision on CUDA, gradient clipping.
Everything a variant may change is a class attribute; what a method changes beyond that goes
into small overridable methods, the seams (network, trainable parts, loss, parameter groups,
batch loss, validation counts; defaults in ``seams``), which receive a typed
:class:`~samseg.training.batch.TrainingBatch`. One engine (``loop.OptimisationStep``) does
mixed precision, clipping and scheduling for all. A variant is a small subclass (see
``samseg/training/trainers/``). The pieces live in their own modules: the epoch loops
(``loop``), checkpoints (``checkpoints``), the log file (``log_file``), the progress plot
(``progress``), the log's run description (``description``), distributed training
(``distributed``), the embedding cache of frozen-encoder
trainers (``cache``), the trainer's checkpoint state (``trainer_state``) and the final
validation (``validation``).
"""

from __future__ import annotations

import time

import torch

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegConfigError
from samseg.evaluation import EvaluationSummary, format_table
from samseg.io import write_json
from samseg.models import LoraSettings, format_parameter_table
from samseg.models.freezing import FreezingPolicy
from samseg.models.pretrained_weights import resolve_sam_checkpoint
from samseg.models.spec import NetworkSpec
from samseg.paths import model_folder, preprocessed_dataset_json, preprocessed_root, raw_root
from samseg.plans import Plans
from samseg.threads import cpu_threads
from samseg.training.amp import choose_mixed_precision
from samseg.training.batch import BatchStream, TypedBatches
from samseg.training.cache import EmbeddingCacheSettings
from samseg.training.cache.trainer_cache import TrainerEmbeddingCache
from samseg.training.checkpoints import (
    CHECKPOINT_BEST,
    CHECKPOINT_FINAL,
    CHECKPOINT_LATEST,
    save_checkpoint,
    seed_everything,
)
from samseg.training.data import AugmentationSettings, make_slice_loader
from samseg.training.description import describe_trainer
from samseg.training.distributed import DistributedContext, unwrap_model, wrap_model
from samseg.training.fold import fold_case_ids
from samseg.training.log_file import TrainingLog
from samseg.training.loop import (
    OptimisationStep,
    foreground_pseudo_dice,
    train_epoch,
    validation_epoch,
)
from samseg.training.optimization import adamw_with_warmup_poly
from samseg.training.progress import TrainingHistory, plot_progress
from samseg.training.seams import TrainerSeams
from samseg.training.trainer_state import TrainerCheckpointing
from samseg.training.validation import validate_fold


class SAMTrainer(TrainerSeams, TrainerCheckpointing):
    """Prompt-free multi-class SAM training; the base class of samseg's trainers.

    Attributes (class level; subclasses override them):
        num_epochs: epochs to train.
        num_iterations_per_epoch: optimisation steps per epoch.
        num_val_iterations_per_epoch: validation batches per epoch (pseudo-Dice).
        save_every: epochs between ``checkpoint_latest.pth`` writes.
        initial_lr: peak learning rate, reached after the warm-up.
        weight_decay: AdamW weight decay.
        warmup_iterations: iterations of linear warm-up.
        poly_exponent: exponent of the poly decay after the warm-up.
        grad_clip_norm: gradient norm clipping threshold.
        ce_weight, dice_weight: loss = ce_weight * CE + dice_weight * (1 - soft Dice).
        freezing_policy: which SAM parts train (``full``, ``lora``, ``frozen``).
        lora: LoRA on the image encoder, or ``None``.
        model_type: backbone; ``None``: the command line's, else the configuration's.
        batch_size: slices per optimisation step over all ranks; ``None``: the plans'.
        augmentation: data augmentation of training batches.
        foreground_oversampling: share of each batch drawn from slices with foreground.
        num_workers: data loader worker processes per rank.
        mixed_precision: bf16 (or fp16 + GradScaler) autocast on CUDA.
        embedding_cache: train from cached image embeddings (the image encoder must be
            frozen; augmentation is switched off), or ``None``: from images.
        ema_momentum: momentum of the pseudo-Dice EMA that selects ``checkpoint_best.pth``.
        seed: seeds the weights' initialisation and the data streams.
    """

    num_epochs: int = 150
    num_iterations_per_epoch: int = 250
    num_val_iterations_per_epoch: int = 50
    save_every: int = 10
    initial_lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_iterations: int = 250
    poly_exponent: float = 0.9
    grad_clip_norm: float = 12.0
    ce_weight: float = 0.2
    dice_weight: float = 0.8
    freezing_policy: FreezingPolicy = "full"
    lora: LoraSettings | None = None
    model_type: str | None = None
    batch_size: int | None = None
    augmentation: AugmentationSettings = AugmentationSettings()
    foreground_oversampling: float = 0.33
    num_workers: int = 2
    mixed_precision: bool = True
    embedding_cache: EmbeddingCacheSettings | None = None
    ema_momentum: float = 0.9
    seed: int = 12345

    def __init__(
        self,
        *,
        plans: Plans,
        configuration: str,
        fold: int | str,
        device: torch.device,
        sam_checkpoint: str | None = None,
        model_type: str | None = None,
        distributed: DistributedContext | None = None,
        show_progress: bool = True,
    ) -> None:
        """
        Args:
            plans: the dataset's plans.
            configuration: name of the configuration to train (``2d_512``).
            fold: 0 .. 4 (the folds of ``splits_final.json``) or ``"all"``.
            device: where to train (``cuda:0``, ``cpu``).
            sam_checkpoint: ``--sam_checkpoint``: a path, ``"none"`` or ``None`` (look in
                ``$SAMSEG_sam_checkpoints``); read only when training starts from scratch.
            model_type: ``--model_type``; overrides the trainer's and the configuration's.
            distributed: this rank's place in distributed training (default: one rank).
            show_progress: progress bars (rank 0 only).
        """
        self.plans = plans
        self.configuration_name = configuration
        self.configuration = plans.configuration(configuration)
        self.fold = fold
        self.device = device
        self.sam_checkpoint = sam_checkpoint
        self.distributed = distributed or DistributedContext()
        self.show_progress = show_progress and self.distributed.is_main
        self.network_spec = NetworkSpec(
            model_type=model_type or self.model_type or self.configuration.model_type,
            input_size=self.configuration.input_size,
            num_classes=plans.label_handling.num_classes,
            lora=self.lora,
        )
        self.preprocessed_folder = preprocessed_root() / plans.dataset_name
        self.data_folder = self.preprocessed_folder / self.configuration.data_identifier
        self.description = DatasetDescription.load(
            preprocessed_dataset_json(self.preprocessed_folder)
        )
        self.model_folder = model_folder(
            plans.dataset_name, type(self).__name__, plans.plans_name, configuration
        )
        self.output_folder = self.model_folder / f"fold_{fold}"
        self.train_ids, self.val_ids = fold_case_ids(
            self.preprocessed_folder, self.data_folder, fold
        )
        self.log = TrainingLog(self.output_folder if self.distributed.is_main else None)
        self.mixed = choose_mixed_precision(device, self.mixed_precision)
        self.loss = self.build_loss()
        self.cache: TrainerEmbeddingCache | None = None
        self.history = TrainingHistory(ema_momentum=self.ema_momentum)
        self.current_epoch = 0

    def initialize(self, *, pretrained: bool = True) -> None:
        """Build the network, optimizer, schedule and gradient scaler.

        Args:
            pretrained: start from the SAM weights of ``sam_checkpoint``; ``False`` when the
                weights will come from a training checkpoint (``--c``).
        """
        seed_everything(self.seed)
        if self.device.type == "cpu":
            torch.set_num_threads(cpu_threads(self.distributed.world_size, self.num_workers))
        spec = self.network_spec
        checkpoint = (
            resolve_sam_checkpoint(self.sam_checkpoint, spec.model_type) if pretrained else None
        )
        if pretrained and checkpoint is None:
            self.log.warning(
                f"--sam_checkpoint none: the {spec.model_type} network starts from RANDOM "
                "weights, not from SAM. Use this for tests and demos only."
            )
        network = self.build_network(checkpoint)
        counts = self.configure_trainable(network)
        if self.embedding_cache is not None:
            self.cache = TrainerEmbeddingCache.for_trainer(self, network)
        self.network = wrap_model(network.to(self.device), self.distributed, self.device)
        self.optimizer, self.scheduler = adamw_with_warmup_poly(
            self.parameter_groups(unwrap_model(self.network)),
            learning_rate=self.initial_lr,
            weight_decay=self.weight_decay,
            warmup_iterations=self.warmup_iterations,
            total_iterations=self.num_epochs * self.num_iterations_per_epoch,
            exponent=self.poly_exponent,
        )
        self.grad_scaler = self.mixed.grad_scaler(self.device)
        self.step = OptimisationStep(
            batch_loss=self.batch_loss,
            parameters=[p for p in self.network.parameters() if p.requires_grad],
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            grad_scaler=self.grad_scaler,
            grad_clip_norm=self.grad_clip_norm,
            device=self.device,
        )
        weights = checkpoint if pretrained else "a training checkpoint"
        self.log.log(describe_trainer(self, weights))
        self.log.log(format_parameter_table(counts))
        if self.cache is not None:
            self.log.log(self.cache.description(self.augmentation))

    def require_one_rank(self, why: str) -> None:
        """Refuse distributed training for a trainer whose passes bypass DDP's forward.

        Raises:
            SamsegConfigError: more than one rank, naming the trainer and ``why``.
        """
        if self.distributed.world_size > 1:
            raise SamsegConfigError(
                f"{type(self).__name__}: expected one rank, found --num_gpus "
                f"{self.distributed.world_size} ({why})"
            )

    @property
    def rank_batch_size(self) -> int:
        """Slices per optimisation step on this rank."""
        return self.distributed.rank_batch_size(self.batch_size or self.configuration.batch_size)

    @property
    def mirroring_allowed(self) -> bool:
        """Whether validation mirrors: the network trained with flips (along which axes is
        the checkpoint's ``inference_allowed_mirroring_axes``)."""
        return bool(self.training_augmentation.mirror_axes)

    def run_training(self) -> None:
        """Train from ``current_epoch`` to ``num_epochs``; write ``checkpoint_final.pth``."""
        if self.distributed.is_main:
            self.plans.save(self.model_folder / "plans.json")
            write_json(self.description.to_json(), self.model_folder / "dataset.json")
        while self.current_epoch < self.num_epochs:
            self.train_one_epoch()
        if self.distributed.is_main:
            save_checkpoint(self.checkpoint_state(), self.output_folder / CHECKPOINT_FINAL)
            (self.output_folder / CHECKPOINT_LATEST).unlink(missing_ok=True)
            self.log.log(f"training done: {self.output_folder / CHECKPOINT_FINAL}")
        self.distributed.barrier()

    def train_one_epoch(self) -> None:
        """One epoch of training, then validation batches, logging and checkpoints."""
        epoch = self.current_epoch
        self.log.log(f"Epoch {epoch} of {self.num_epochs} started")
        start = time.perf_counter()
        self.network.train()
        with self.make_loader(self.train_ids, epoch, training=True) as batches:
            train = train_epoch(
                self.step,
                batches,
                self.num_iterations_per_epoch,
                label=f"epoch {epoch}/{self.num_epochs}",
                show_progress=self.show_progress,
            )
        self.network.eval()
        with self.make_loader(self.val_ids, epoch, training=False) as batches:
            validation = validation_epoch(
                self.validation_counts,
                batches,
                self.num_val_iterations_per_epoch,
                num_classes=self.network_spec.num_classes,
                device=self.device,
            )
        reduced = self.distributed.sum(
            torch.tensor([train.mean_loss, validation.mean_loss], device=self.device)
        )
        counts = self.distributed.sum(validation.counts.to(self.device)).cpu()
        train_loss, val_loss = (reduced / self.distributed.world_size).tolist()
        self.current_epoch += 1
        improved = self.history.record(
            train_loss=train_loss,
            val_loss=val_loss,
            pseudo_dice=foreground_pseudo_dice(counts),
            learning_rate=self.optimizer.param_groups[0]["lr"],
            epoch_seconds=time.perf_counter() - start,
            data_wait_share=train.data_wait_share,
        )
        if self.distributed.is_main:
            self._end_of_epoch(improved)

    def make_loader(self, case_ids: list[str], epoch: int, *, training: bool) -> BatchStream:
        """A fresh batch stream for one epoch, seeded by (seed, epoch, part), so a resumed
        run draws the same batches as an uninterrupted one; from the embedding cache when
        the trainer has one."""
        seed = (self.seed + 7919 * epoch + (0 if training else 1)) % 2**31
        if self.cache is not None:
            return self.cache.batches(
                unwrap_model(self.network), case_ids, self.rank_batch_size, seed
            )
        stream = make_slice_loader(
            folder=self.data_folder,
            case_ids=case_ids,
            configuration=self.configuration,
            label_handling=self.plans.label_handling,
            batch_size=self.rank_batch_size,
            augmentation=self.training_augmentation if training else AugmentationSettings.none(),
            foreground_oversampling=self.foreground_oversampling,
            num_workers=self.num_workers,
            seed=seed,
            rank=self.distributed.rank,
            world_size=self.distributed.world_size,
        )
        return TypedBatches(stream)

    def perform_validation(
        self, checkpoint_name: str = CHECKPOINT_FINAL, *, save_probabilities: bool = False
    ) -> EvaluationSummary | None:
        """Predict the fold's validation cases from the raw images and evaluate them.

        Writes ``validation/`` (label files, ``summary.json``) in the fold folder; rank 0
        only, the other ranks return ``None`` at once (no barrier, so a long validation
        cannot run into a collective's timeout).
        """
        if not self.distributed.is_main:
            return None
        self.log.log(f"validating {len(self.val_ids)} cases with {checkpoint_name}")
        summary = validate_fold(
            model_folder=self.model_folder,
            raw_folder=raw_root() / self.plans.dataset_name,
            fold=self.fold,
            checkpoint_name=checkpoint_name,
            case_ids=self.val_ids,
            device=self.device,
            use_mirroring=self.mirroring_allowed,
            save_probabilities=save_probabilities,
            show_progress=self.show_progress,
        )
        self.log.log(format_table(summary))
        return summary

    def _end_of_epoch(self, improved: bool) -> None:
        self.log.log(self.history.epoch_summary())
        plot_progress(self.history, self.output_folder / "progress.png")
        if improved:
            save_checkpoint(self.checkpoint_state(), self.output_folder / CHECKPOINT_BEST)
            self.log.log(f"new best EMA pseudo Dice: {self.history.best_ema_pseudo_dice:.4f}")
        if self.current_epoch % self.save_every == 0 and self.current_epoch < self.num_epochs:
            save_checkpoint(self.checkpoint_state(), self.output_folder / CHECKPOINT_LATEST)
