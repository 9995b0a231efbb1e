"""Run one training request: train (or continue, or only validate) one fold, on one or more
ranks. ``samseg_train`` builds a :class:`TrainingRequest` and calls :func:`train`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from samseg.devices import resolve_device
from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.paths import model_folder
from samseg.plans_lookup import load_preprocessed_plans
from samseg.training.checkpoints import CHECKPOINT_BEST, CHECKPOINT_FINAL, resume_checkpoint
from samseg.training.defaults import DEFAULT_PLANS, DEFAULT_TRAINER
from samseg.training.distributed import (
    DistributedContext,
    init_distributed,
    is_launched_rank,
    launch,
    shutdown_distributed,
)
from samseg.training.registry import trainer_class


@dataclass(frozen=True, kw_only=True)
class TrainingRequest:
    """What ``samseg_train`` was asked to do.

    Attributes:
        dataset: ``-d``-style dataset query (id, ``DatasetXXX_Name`` or name).
        configuration: plans configuration (``2d_512``).
        fold: 0 .. 4 or ``"all"``.
        trainer_name: ``-tr``.
        plans_name: ``-p``.
        continue_training: ``--c``: continue from the fold's latest checkpoint.
        validation_only: ``--val``: only run the final validation.
        use_best_checkpoint: ``--val_best``: validate with ``checkpoint_best.pth``.
        save_probabilities: ``--npz``: also write validation probabilities.
        device: ``auto`` (CUDA when available), ``cuda``, ``cpu`` or ``mps``.
        num_processes: ``--num_gpus``: ranks of distributed data-parallel training.
        sam_checkpoint: ``--sam_checkpoint``: a path, ``"none"``, or ``None`` (look in
            ``$SAMSEG_sam_checkpoints``).
        model_type: ``--model_type``; ``None``: the trainer's or the configuration's.
        show_progress: progress bars.
    """

    dataset: str
    configuration: str
    fold: int | str
    trainer_name: str = DEFAULT_TRAINER
    plans_name: str = DEFAULT_PLANS
    continue_training: bool = False
    validation_only: bool = False
    use_best_checkpoint: bool = False
    save_probabilities: bool = False
    device: str = "auto"
    num_processes: int = 1
    sam_checkpoint: str | None = None
    model_type: str | None = None
    show_progress: bool = True


def train(request: TrainingRequest) -> Path:
    """Carry out ``request``; return the fold folder.

    With ``num_processes > 1`` the ranks are launched here (each runs this same request);
    a process that is already a launched rank trains as that rank.

    Raises:
        SamsegInputError, SamsegConfigError: bad dataset, plans, configuration, fold,
            trainer, device or checkpoint (raised before any rank starts where possible).
    """
    if request.num_processes < 1:
        raise SamsegInputError(
            f"--num_gpus: expected a positive number of ranks, found {request.num_processes}"
        )
    plans = load_preprocessed_plans(request.dataset, request.plans_name)
    plans.configuration(request.configuration)
    cls = trainer_class(request.trainer_name)
    folder = model_folder(plans.dataset_name, cls.__name__, plans.plans_name, request.configuration)
    if request.num_processes > 1 and not is_launched_rank():
        device = resolve_device(request.device)
        if device.type == "cuda" and request.num_processes > torch.cuda.device_count():
            raise SamsegConfigError(
                f"--num_gpus {request.num_processes}: expected as many CUDA GPUs, found "
                f"{torch.cuda.device_count()}"
            )
        launch(run_rank, request.num_processes, request)
    else:
        run_rank(request)
    return folder / f"fold_{request.fold}"


def run_rank(request: TrainingRequest) -> None:
    """Train as this process's rank (the only one when not launched by :func:`launch`)."""
    device = resolve_device(request.device)
    context = init_distributed(device.type)
    try:
        if device.type == "cuda" and context.enabled:
            device = torch.device("cuda", context.local_rank)
        _run(request, device, context)
    finally:
        shutdown_distributed()


def _run(request: TrainingRequest, device: torch.device, context: DistributedContext) -> None:
    plans = load_preprocessed_plans(request.dataset, request.plans_name)
    trainer = trainer_class(request.trainer_name)(
        plans=plans,
        configuration=request.configuration,
        fold=request.fold,
        device=device,
        sam_checkpoint=request.sam_checkpoint,
        model_type=request.model_type,
        distributed=context,
        show_progress=request.show_progress,
    )
    checkpoint_name = CHECKPOINT_BEST if request.use_best_checkpoint else CHECKPOINT_FINAL
    if not request.validation_only:
        resume = resume_checkpoint(trainer.output_folder) if request.continue_training else None
        if request.continue_training and resume is None:
            trainer.log.log(f"--c: no checkpoint in {trainer.output_folder}; starting anew")
        trainer.initialize(pretrained=resume is None)
        if resume is not None:
            trainer.load_checkpoint(resume)
        trainer.run_training()
    trainer.perform_validation(checkpoint_name, save_probabilities=request.save_probabilities)
