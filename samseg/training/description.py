"""The run description a trainer writes at the top of its log."""

from __future__ import annotations

import torch


def describe_trainer(trainer, weights: object) -> str:
    """Lines naming the trainer's data, network, devices, batch and schedule.

    Args:
        trainer: an initialised ``SAMTrainer``.
        weights: where the weights came from (a path, a phrase, or ``None``: random).
    """
    spec, plans = trainer.network_spec, trainer.plans
    world = trainer.distributed.world_size
    return "\n".join(
        [
            f"{type(trainer).__name__}: {plans.dataset_name}, plans {plans.plans_name},"
            f" configuration {trainer.configuration_name}, fold {trainer.fold}",
            f"network: {spec.model_type} at {spec.input_size} px, {spec.num_classes} classes,"
            f" LoRA {spec.lora}, freezing policy {trainer.freezing_policy}, weights from "
            f"{weights or 'random initialisation'}",
            f"device {trainer.device} x {world} rank(s) ({torch.get_num_threads()} threads), "
            f"{trainer.mixed.description}, batch "
            f"{trainer.rank_batch_size} per rank, {len(trainer.train_ids)} training and "
            f"{len(trainer.val_ids)} validation cases",
            f"{trainer.num_epochs} epochs x {trainer.num_iterations_per_epoch} iterations, AdamW "
            f"lr {trainer.initial_lr:g} (warm-up {trainer.warmup_iterations} iterations, poly "
            f"{trainer.poly_exponent}), weight decay {trainer.weight_decay:g}",
        ]
    )
