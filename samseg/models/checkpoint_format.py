"""The samseg checkpoint format: its version, its key names and its one reader.

A samseg checkpoint is a dict that ``torch.load(..., weights_only=True)`` reads back without
unpickling any object (every read goes through
:func:`samseg.models.checkpoint_io.load_weights_only`):

- ``format_version``: :data:`FORMAT_VERSION` (2). A file without it is version 1 (written
  before the version existed); both are read.
- ``network``: the network description, ``{"kind": KIND, **options}``: a network kind of
  the builder registry (``samseg.models.network_kinds``) and the JSON-able options its
  builder takes. Version 1 files hold no ``kind``: their ``network`` is the options of
  :data:`SAM_SEGMENTER_KIND` (``NetworkSpec`` JSON).
- ``network_weights``: the network's state dict (parameter name -> tensor).
- ``inference_allowed_mirroring_axes``: the in-plane axes (0: rows, 1: columns) training
  flipped, along which prediction may mirror; absent (files of older trainers): both.
- the training state, :data:`TRAINING_STATE_KEYS` (written by ``samseg.training``; prediction
  ignores it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from samseg.errors import SamsegInputError
from samseg.models.checkpoint_io import SAMSEG_WEIGHTS_KEY, load_weights_only

FORMAT_VERSION = 2
"""The version this samseg writes; versions 1 .. FORMAT_VERSION are read."""

FORMAT_VERSION_KEY = "format_version"
NETWORK_KEY = "network"
WEIGHTS_KEY = SAMSEG_WEIGHTS_KEY
"""``network_weights`` (``samseg.models.checkpoint_io`` tells the layouts apart by it)."""
MIRRORING_KEY = "inference_allowed_mirroring_axes"
KIND_KEY = "kind"
"""The entry of the network description that names its kind."""

TRAINING_STATE_KEYS = (
    "trainer_name",
    "init_args",
    "plans_name",
    "configuration",
    "fold",
    "current_epoch",
    "optimizer_state",
    "lr_scheduler_state",
    "grad_scaler_state",
    "logging",
    "rng_state",
)
"""What a training checkpoint holds besides the network (see ``samseg.training.checkpoints``)."""

SAM_SEGMENTER_KIND = "sam_segmenter"
"""The kind of samseg's prompt-free multi-class SamSegmenter (options: ``NetworkSpec``); the
only kind version 1 files hold."""

PROMPTABLE_SAM_KIND = "promptable_sam"
"""The kind of a SamSegmenter trained for SAM's prompts only (interactive fine-tuning); same
options as ``sam_segmenter``. Its prompt-free class head is untrained: it predicts with
prompts (``samseg_predict --prompts``), never prompt-free."""

PGSAM_KIND = "pgsam"
"""The kind of a PG-SAM network (``samseg.models.pgsam``): a SamSegmenter subclass guided by
class text embeddings stored in its weights; options: ``NetworkSpec``'s plus ``pgsam``."""

PROMISE_KIND = "promise"
"""The kind of a ProMISe network (``samseg.models.promise``): a frozen SAM backbone with an
auto-prompting module and pattern embedding; options ``backbone`` (``NetworkSpec``) and
``promise`` (``ProMISeSettings``)."""

MIRROR_AXES = (0, 1)
"""In-plane axes: 0 rows, 1 columns."""


@dataclass(frozen=True)
class NetworkDescription:
    """What rebuilds a network: its kind and the options of that kind's builder.

    Attributes:
        kind: a key of ``samseg.models.network_kinds.NETWORK_KINDS``.
        options: JSON-able builder options (for ``sam_segmenter``: ``NetworkSpec`` fields).
    """

    kind: str
    options: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """``{"kind": kind, **options}``, the checkpoint's ``network`` entry."""
        return {KIND_KEY: self.kind, **self.options}

    @classmethod
    def from_json(
        cls, data: object, where: str, format_version: int = FORMAT_VERSION
    ) -> NetworkDescription:
        """Parse a ``network`` entry; version 1 entries without a kind are ``sam_segmenter``.

        Raises:
            SamsegInputError: not a dict, or (version 2) no string ``kind``.
        """
        if not isinstance(data, Mapping):
            raise SamsegInputError(
                f"{where}: expected {NETWORK_KEY!r} to describe the network (a dict with "
                f"{KIND_KEY!r} and its options), found {type(data).__name__}"
            )
        options = {key: value for key, value in data.items() if key != KIND_KEY}
        if KIND_KEY not in data and format_version == 1:
            return cls(SAM_SEGMENTER_KIND, options)
        kind = data.get(KIND_KEY)
        if not isinstance(kind, str):
            raise SamsegInputError(
                f"{where}: expected {NETWORK_KEY!r} to name its network kind under "
                f"{KIND_KEY!r} (format version {format_version}), found {dict(data)!r}"
            )
        return cls(kind, options)


@dataclass(frozen=True)
class SamsegCheckpoint:
    """A samseg checkpoint as read by :func:`read_samseg_checkpoint`.

    Attributes:
        path: the file.
        format_version: 1 (no version recorded) .. :data:`FORMAT_VERSION`.
        network: what rebuilds the network.
        weights: the network's state dict, on the CPU.
        allowed_mirroring_axes: in-plane axes prediction may mirror along, sorted; ``None``
            when the file does not record them (then both are allowed).
        content: the whole file content (training state included), as read.
    """

    path: Path
    format_version: int
    network: NetworkDescription
    weights: dict[str, torch.Tensor]
    allowed_mirroring_axes: tuple[int, ...] | None
    content: dict[str, Any]

    @property
    def mirroring_axes(self) -> tuple[int, ...]:
        """The axes prediction may mirror along: those recorded, else both."""
        return MIRROR_AXES if self.allowed_mirroring_axes is None else self.allowed_mirroring_axes


def read_samseg_checkpoint(
    path: str | os.PathLike, required: tuple[str, ...] = ()
) -> SamsegCheckpoint:
    """Read a samseg checkpoint (any format version) onto the CPU, weights only.

    Args:
        path: the file.
        required: entries the caller needs besides the network and its weights.

    Raises:
        SamsegInputError: a missing or unreadable file, pickled objects, a file that is not a
            samseg checkpoint (an official SAM file, missing entries), a version newer than
            this samseg reads, or malformed network / mirroring entries; each message names
            the file, what was expected and what was found.
    """
    path = Path(path)
    expected = f"a samseg checkpoint (a dict with {NETWORK_KEY!r} and {WEIGHTS_KEY!r})"
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected {expected}, found no such file")
    content = load_weights_only(path, expected)
    if not isinstance(content, dict):
        raise SamsegInputError(f"{path}: expected {expected}, found a {type(content).__name__}")
    needed = (NETWORK_KEY, WEIGHTS_KEY, *required)
    missing = [key for key in needed if key not in content]
    if missing:
        raise SamsegInputError(
            f"{path}: expected {expected} with the entries {', '.join(needed)}, found no "
            f"{', '.join(missing)}{_what_it_is(content)}"
        )
    weights = content[WEIGHTS_KEY]
    if not isinstance(weights, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in weights.items()
    ):
        raise SamsegInputError(
            f"{path}: expected {WEIGHTS_KEY!r} to be a state dict (parameter name -> tensor), "
            f"found {type(weights).__name__}"
            + (f" with keys {list(weights)[:5]}" if isinstance(weights, dict) else "")
        )
    version = _format_version(content.get(FORMAT_VERSION_KEY, 1), path)
    return SamsegCheckpoint(
        path=path,
        format_version=version,
        network=NetworkDescription.from_json(content[NETWORK_KEY], str(path), version),
        weights=weights,
        allowed_mirroring_axes=_mirroring_axes(content.get(MIRRORING_KEY), path),
        content=content,
    )


def stamped_content(content: Mapping[str, Any], where: str) -> dict[str, Any]:
    """``content`` as a current-version checkpoint: ``format_version`` added, checked.

    Args:
        content: the checkpoint's entries (network description with its kind, weights, ...).
        where: the file it goes to, for messages.

    Raises:
        ValueError: no network description with a kind, no weights, or mirroring axes
            outside (0, 1) (a programming error of the writer, not of a user's file).
    """
    network = content.get(NETWORK_KEY)
    if not isinstance(network, Mapping) or not isinstance(network.get(KIND_KEY), str):
        raise ValueError(
            f"{where}: a samseg checkpoint's {NETWORK_KEY!r} needs a {KIND_KEY!r}, found "
            f"{network!r}"
        )
    if not isinstance(content.get(WEIGHTS_KEY), Mapping):
        raise ValueError(f"{where}: a samseg checkpoint needs {WEIGHTS_KEY!r} (a state dict)")
    if MIRRORING_KEY in content:
        _mirroring_axes(content[MIRRORING_KEY], Path(where), error=ValueError)
    return {FORMAT_VERSION_KEY: FORMAT_VERSION, **content}


def _format_version(value: object, path: Path) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= FORMAT_VERSION:
        return value
    newer = isinstance(value, int) and value > FORMAT_VERSION
    raise SamsegInputError(
        f"{path}: expected {FORMAT_VERSION_KEY} 1 to {FORMAT_VERSION}, found {value!r}"
        + (" (written by a newer samseg; update samseg to read it)" if newer else "")
    )


def _mirroring_axes(
    value: object, path: Path, error: type[Exception] = SamsegInputError
) -> tuple[int, ...] | None:
    """The recorded axes, sorted; ``None`` when absent."""
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(
        isinstance(axis, int) and axis in MIRROR_AXES for axis in value
    ):
        return tuple(sorted(set(value)))
    raise error(
        f"{path}: expected {MIRRORING_KEY} to be a list of in-plane axes of {list(MIRROR_AXES)}, "
        f"found {value!r}"
    )


def _what_it_is(content: dict) -> str:
    """Name the layout of a file that is not a samseg checkpoint, for messages."""
    if content and all(isinstance(value, torch.Tensor) for value in content.values()):
        return " (it is a plain state dict: official SAM/MedSAM weights, not a trained model)"
    if isinstance(content.get("model"), dict):
        return " (it holds a state dict under 'model': MedSAM-style weights, not a trained model)"
    return f"; its entries are {sorted(map(str, content))[:8]}"
