"""Training checkpoints: plain tensors and JSON-able metadata, written atomically.

A training checkpoint is a samseg checkpoint (``samseg.models.checkpoint_format``: the format
version, the network description and weights, the mirroring axes prediction may use) plus the
training state, read back with ``torch.load(..., weights_only=True)``:

- ``format_version``: added by :func:`save_checkpoint`.
- ``network_weights``: the network's state dict (LoRA layers kept, peft's names).
- ``network``: the network description, ``{"kind": ..., **options}``
  (:meth:`samseg.models.spec.NetworkSpec.to_json` for SAM segmenters).
- ``inference_allowed_mirroring_axes``: the in-plane axes training flipped (0: rows,
  1: columns); prediction mirrors only along these.
- ``trainer_name``, ``init_args`` (JSON-able constructor arguments), ``plans_name``,
  ``configuration``, ``fold``.
- ``current_epoch``: number of finished epochs (training resumes at this epoch index).
- ``optimizer_state``, ``lr_scheduler_state``, ``grad_scaler_state``: their state dicts.
- ``logging``: the training history (:class:`samseg.training.progress.TrainingHistory`).
- ``rng_state``: torch CPU (and CUDA) generator states as uint8 tensors, numpy's and Python's
  as JSON-able lists.

Files are written under a temporary name and renamed (``samseg.io.atomic_output``), so a
killed run leaves either the previous checkpoint or the new one, never half a file.
Checkpoints written before the format version existed (version 1) are read and continued.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from samseg.errors import SamsegInputError
from samseg.io import atomic_output
from samseg.models.checkpoint_format import (
    FORMAT_VERSION_KEY,
    NETWORK_KEY,
    TRAINING_STATE_KEYS,
    WEIGHTS_KEY,
    NetworkDescription,
    read_samseg_checkpoint,
    stamped_content,
)

CHECKPOINT_FINAL = "checkpoint_final.pth"
CHECKPOINT_LATEST = "checkpoint_latest.pth"
CHECKPOINT_BEST = "checkpoint_best.pth"
RESUME_ORDER = (CHECKPOINT_FINAL, CHECKPOINT_LATEST, CHECKPOINT_BEST)
"""Which checkpoint ``--c`` continues from: the first of these that exists."""

REQUIRED_KEYS = (WEIGHTS_KEY, NETWORK_KEY, *TRAINING_STATE_KEYS)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's global generator and Python's random module."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def capture_rng_state() -> dict[str, Any]:
    """The torch, numpy and Python random generator states of this process.

    Returns:
        ``{"torch_cpu": uint8 tensor, "torch_cuda": [uint8 tensor per device],
        "numpy": [name, keys, pos, has_gauss, cached_gaussian], "python": [version,
        internal state, gauss_next]}``, all loadable with ``weights_only=True``.
    """
    name, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch_cpu": torch.get_rng_state(),
        "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [str(name), keys.tolist(), int(position), int(has_gauss), float(cached)],
        "python": [version, list(internal), gauss_next],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Set the generators to a state from :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch_cpu"])
    cuda_states = state.get("torch_cuda") or []
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_checkpoint(checkpoint: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``checkpoint`` to ``path`` atomically (temporary file, then rename), stamped
    with the current ``format_version``."""
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(f"a training checkpoint needs the keys {missing}, found none of them")
    content = stamped_content(checkpoint, str(path))
    with atomic_output(path) as temporary:
        torch.save(content, temporary)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a training checkpoint (any format version) onto the CPU, weights only.

    Returns:
        The file's entries (see the module docstring).

    Raises:
        SamsegInputError: the file is missing, unreadable, or lacks a required entry.
    """
    path = Path(path)
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected a training checkpoint, found no such file")
    return read_samseg_checkpoint(path, TRAINING_STATE_KEYS).content


def check_continuable(
    checkpoint: dict[str, Any], path: Path, network: dict, trainer_name: str
) -> None:
    """Raise a SamsegInputError unless ``checkpoint`` holds ``network`` (its description's
    JSON) trained by ``trainer_name``; a version 1 checkpoint's description counts as
    ``sam_segmenter``."""
    version = int(checkpoint.get(FORMAT_VERSION_KEY, 1))
    found = NetworkDescription.from_json(checkpoint[NETWORK_KEY], str(path), version)
    if found != NetworkDescription.from_json(network, "this trainer's network"):
        raise SamsegInputError(
            f"{path}: expected a checkpoint of the network {network}, found "
            f"{checkpoint[NETWORK_KEY]}"
        )
    if checkpoint["trainer_name"] != trainer_name:
        raise SamsegInputError(
            f"{path}: expected a checkpoint of {trainer_name}, "
            f"found one of {checkpoint['trainer_name']}"
        )


def resume_checkpoint(fold_folder: str | os.PathLike) -> Path | None:
    """The checkpoint ``--c`` continues from (final, else latest, else best), if any."""
    for name in RESUME_ORDER:
        candidate = Path(fold_folder) / name
        if candidate.is_file():
            return candidate
    return None
