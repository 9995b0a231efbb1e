"""Read SAM weights from the files users have, safely.

Three layouts are recognised, all read with ``torch.load(weights_only=True)`` so that no
pickled code from a file a user was sent is ever run:

- ``sam``: the official files (``sam_vit_b_01ec64.pth`` ...) and MedSAM's
  ``medsam_vit_b.pth``: a plain state dict ``{name: tensor}`` with segment_anything's
  ``Sam`` parameter names.
- ``wrapped``: the same state dict under the key ``"model"`` (some MedSAM releases).
- ``samseg``: samseg's own checkpoints, a dict whose ``"network_weights"`` entry is the
  state dict and whose other entries are metadata (trainer, plans, epoch, ...).

No code in samseg downloads weights; a missing file is an error that says where to get one.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.models.architectures import SAM_ARCHITECTURES
from samseg.models.encoders.litemedsam_weights import FILE_NAME as LITEMEDSAM_FILE
from samseg.models.encoders.litemedsam_weights import INSTALL_HINT as LITEMEDSAM_HINT

CheckpointLayout = Literal["sam", "wrapped", "samseg"]

SAMSEG_WEIGHTS_KEY = "network_weights"
"""Key of the state dict inside a samseg checkpoint."""

WRAPPED_WEIGHTS_KEY = "model"
"""Key of the state dict inside a wrapped (MedSAM-style) checkpoint."""

_UNSAFE_GLOBAL = re.compile(r"Unsupported global: GLOBAL (\S+)")
_UNPICKLER_DETAIL = re.compile(r"WeightsUnpickler error:\s*(.+?)(?:\n\n|$)", re.DOTALL)


@dataclass(frozen=True)
class CheckpointContents:
    """What a checkpoint file holds.

    Attributes:
        path: the file read.
        layout: which of the recognised layouts it has (see the module docstring).
        state_dict: parameter name -> tensor (on the CPU).
        metadata: the non-weight entries of a samseg checkpoint; empty for other layouts.
    """

    path: Path
    layout: CheckpointLayout
    state_dict: dict[str, torch.Tensor]
    metadata: dict[str, object] = field(default_factory=dict)


def missing_checkpoint_message(path: Path) -> str:
    """Explain that ``path`` does not exist and where the official checkpoints come from."""
    official = ", ".join(
        f"{file} ({model_type})"
        for model_type, architecture in SAM_ARCHITECTURES.items()
        for file in architecture.checkpoint_files
    )
    official += f", {LITEMEDSAM_FILE} (litemedsam)"
    return (
        f"SAM checkpoint not found: {path}. samseg never downloads weights; pass the path of a "
        f"file you have. Official files: {official}. SAM's come from the segment-anything "
        "project page (github.com/facebookresearch/segment-anything, 'Model Checkpoints'), "
        "medsam_vit_b.pth from the MedSAM project page (github.com/bowang-lab/MedSAM); "
        f"for {LITEMEDSAM_FILE}, {LITEMEDSAM_HINT}. "
        "For tests and demos use no checkpoint (checkpoint=None, --sam_checkpoint none) for "
        "random initialisation."
    )


def read_checkpoint(checkpoint: str | os.PathLike[str]) -> CheckpointContents:
    """Read a SAM, MedSAM or samseg checkpoint file onto the CPU.

    Raises:
        SamsegConfigError: the file does not exist (the message names the official files).
        SamsegInputError: the file is not a checkpoint in a recognised layout.
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise SamsegConfigError(missing_checkpoint_message(path))
    content = load_weights_only(
        path, "an official SAM/MedSAM .pth state dict or a samseg checkpoint"
    )
    if not isinstance(content, Mapping):
        raise SamsegInputError(
            f"{path}: expected a dict of weights, found a {type(content).__name__}."
        )
    if SAMSEG_WEIGHTS_KEY in content:
        metadata = {key: value for key, value in content.items() if key != SAMSEG_WEIGHTS_KEY}
        weights = _as_state_dict(content[SAMSEG_WEIGHTS_KEY], path, f"[{SAMSEG_WEIGHTS_KEY!r}]")
        return CheckpointContents(path, "samseg", weights, metadata)
    if isinstance(content.get(WRAPPED_WEIGHTS_KEY), Mapping):
        weights = _as_state_dict(content[WRAPPED_WEIGHTS_KEY], path, f"[{WRAPPED_WEIGHTS_KEY!r}]")
        return CheckpointContents(path, "wrapped", weights)
    return CheckpointContents(path, "sam", _as_state_dict(content, path, ""))


def load_weights_only(path: Path, expected: str) -> object:
    """``torch.load(path, weights_only=True)`` onto the CPU; every failure is one line.

    Every checkpoint samseg reads goes through here, so that no file a user was sent can run
    code, and a refused file gets samseg's own message instead of torch's advice to load it
    with ``weights_only=False``.

    Args:
        path: the file.
        expected: what the file should be, for the message ("a samseg checkpoint").

    Raises:
        SamsegInputError: ``"<path>: refusing to unpickle <object> ..."`` for pickled Python
            objects, else ``"<path>: expected <expected> ..., found ..."``.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        message = str(error)
        unsafe = _UNSAFE_GLOBAL.search(message)
        if unsafe:
            raise SamsegInputError(
                f"{path}: refusing to unpickle {unsafe.group(1)}: expected {expected} of "
                "tensors and plain values (read with torch.load(weights_only=True)), found "
                "pickled Python objects, and samseg never runs code from a checkpoint; re-save "
                "the weights as a dict of tensors"
            ) from None
        detail = _UNPICKLER_DETAIL.search(message)
        found = " ".join(detail.group(1).split()) if detail else "not a torch file"
        raise SamsegInputError(
            f"{path}: expected {expected} readable with torch.load(weights_only=True), found a "
            f"file torch cannot read ({found})"
        ) from None
    except Exception as error:
        found = " ".join(str(error).split())[:300]
        raise SamsegInputError(
            f"{path}: expected {expected} readable with torch.load(weights_only=True), found "
            f"{type(error).__name__}: {found}"
        ) from None


def _as_state_dict(content: object, path: Path, where: str) -> dict[str, torch.Tensor]:
    """Check that ``content`` maps parameter names to tensors and return it as a dict."""
    if not isinstance(content, Mapping) or not content:
        raise SamsegInputError(
            f"{path}{where}: expected a non-empty state dict (parameter name -> tensor), "
            f"found {type(content).__name__} {_preview(content)}."
        )
    for key, value in content.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise SamsegInputError(
                f"{path}{where}: expected a state dict (parameter name -> tensor), or a dict "
                f"with the state dict under {SAMSEG_WEIGHTS_KEY!r} (samseg) or "
                f"{WRAPPED_WEIGHTS_KEY!r} (MedSAM); found entry {key!r} of type "
                f"{type(value).__name__}."
            )
    return dict(content)


def _preview(content: object) -> str:
    """A short description of a checkpoint's top level, for error messages."""
    if isinstance(content, Mapping):
        keys = list(content)[:5]
        return f"with keys {keys}" if keys else "(empty)"
    return ""
