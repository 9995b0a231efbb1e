"""Distributed data-parallel training: launching ranks, the process group, and reductions.

``--num_gpus N`` starts N ranks through torch.distributed.run's launcher API
(:func:`torch.distributed.launcher.api.elastic_launch`, what ``torchrun --standalone`` runs),
each calling the same training function. Every rank reads its own shard of the training
slices and a share of the batch; gradients are averaged by DistributedDataParallel; only
rank 0 writes files. The backend is NCCL on CUDA (one GPU per rank) and gloo on the CPU.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.launcher.api import LaunchConfig, elastic_launch

RANK_ENV = "RANK"
WORLD_SIZE_ENV = "WORLD_SIZE"
LOCAL_RANK_ENV = "LOCAL_RANK"


@dataclass(frozen=True)
class DistributedContext:
    """This process's place among the training ranks (one rank: not distributed).

    Attributes:
        rank: global rank, 0 writes files.
        local_rank: rank on this machine, the CUDA device index.
        world_size: number of ranks.
    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this rank writes logs, checkpoints and validation results."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Whether more than one rank trains."""
        return self.world_size > 1

    def rank_batch_size(self, batch_size: int) -> int:
        """This rank's share of a global batch of ``batch_size`` slices (at least one)."""
        share = batch_size // self.world_size + (self.rank < batch_size % self.world_size)
        return max(1, share)

    def barrier(self) -> None:
        """Wait for every rank (no-op when not distributed)."""
        if self.enabled:
            dist.barrier()

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over ranks, in place (unchanged when not distributed)."""
        if self.enabled:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor


def is_launched_rank() -> bool:
    """Whether this process was started by the launcher (its environment names a rank)."""
    return RANK_ENV in os.environ and WORLD_SIZE_ENV in os.environ


def init_distributed(device_type: str) -> DistributedContext:
    """Join the process group of a launched rank; a plain process gets a one-rank context.

    Args:
        device_type: ``cuda`` (NCCL backend, one device per local rank) or ``cpu`` (gloo).
    """
    if not is_launched_rank():
        return DistributedContext()
    context = DistributedContext(
        rank=int(os.environ[RANK_ENV]),
        local_rank=int(os.environ.get(LOCAL_RANK_ENV, 0)),
        world_size=int(os.environ[WORLD_SIZE_ENV]),
    )
    if device_type == "cuda":
        torch.cuda.set_device(context.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return context


def shutdown_distributed() -> None:
    """Leave the process group, if this process joined one."""
    if dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: nn.Module, context: DistributedContext, device: torch.device) -> nn.Module:
    """``model`` in DistributedDataParallel when distributed, else ``model`` itself.

    Unused parameters are allowed: the prompt-free forward does not use SAM's point, box and
    mask prompt embeddings nor the promptable output heads.
    """
    if not context.enabled:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(
        model, device_ids=device_ids, find_unused_parameters=True
    )


def unwrap_model(model: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper (or ``model`` itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def launch(entrypoint: Callable[..., object], num_processes: int, *args: object) -> None:
    """Run ``entrypoint(*args)`` in ``num_processes`` ranks on this machine and wait.

    ``entrypoint`` must be a module-level function (ranks are started with ``spawn``); it
    calls :func:`init_distributed` itself. A failing rank stops all of them and raises
    ``torch.distributed.elastic.multiprocessing.errors.ChildFailedError``.
    """
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=num_processes,
        run_id=uuid.uuid4().hex,
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",
        max_restarts=0,
        monitor_interval=0.5,
        start_method="spawn",
    )
    elastic_launch(config, entrypoint)(*args)
