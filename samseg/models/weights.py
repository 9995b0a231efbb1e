"""Load a checkpoint into a SAM network, resized to its input size, or explain why not.

Official SAM and MedSAM files hold a ``Sam`` state dict; they fill everything of a
:class:`~samseg.models.segmenter.SamSegmenter` except the multi-class head (class tokens and
their hypernetwork MLPs), which keeps its fresh initialisation. A samseg checkpoint holds the
whole network and must match it completely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from samseg.errors import SamsegInputError
from samseg.models.architectures import guess_model_type
from samseg.models.checkpoint_io import CheckpointContents, CheckpointLayout, read_checkpoint
from samseg.models.resize import resizable_keys, resize_state_dict

MULTICLASS_HEAD_PREFIXES = ("mask_decoder.class_tokens.", "mask_decoder.class_hypernetworks_mlps.")
"""Parameters that official checkpoints lack: they stay freshly initialised."""

MAX_LISTED = 8
"""How many mismatches an error message lists."""

_PATCH_WEIGHT = "image_encoder.patch_embed.proj.weight"
_TINYVIT_STEM_WEIGHT = "image_encoder.patch_embed.seq.0.c.weight"


@dataclass(frozen=True)
class LoadReport:
    """What loading a checkpoint did.

    Attributes:
        path: the checkpoint file.
        layout: ``sam``, ``wrapped`` or ``samseg`` (see ``samseg.models.checkpoint_io``).
        resized: entries resampled to the model's input size.
        initialised: model parameters the file does not have (the multi-class head when the
            file is an official one), left at their fresh initialisation.
        metadata: non-weight entries of a samseg checkpoint.
    """

    path: Path
    layout: CheckpointLayout
    resized: list[str]
    initialised: list[str]
    metadata: dict[str, object] = field(default_factory=dict)


def load_checkpoint(model: nn.Module, checkpoint: str | os.PathLike[str]) -> LoadReport:
    """Load ``checkpoint`` into ``model`` (in place), resizing position parameters.

    Args:
        model: a network with segment_anything's parameter names (``image_encoder.*``,
            ``prompt_encoder.*``, ``mask_decoder.*``), e.g. a ``SamSegmenter``.
        checkpoint: an official SAM / MedSAM file or a samseg checkpoint.

    Raises:
        SamsegConfigError: the file does not exist.
        SamsegInputError: the file is unreadable, or its keys or shapes do not fit ``model``;
            the message names the file and lists the first mismatches, expected and found.
    """
    return load_contents(model, read_checkpoint(checkpoint))


def load_contents(model: nn.Module, contents: CheckpointContents) -> LoadReport:
    """Load checkpoint ``contents`` (see :func:`load_checkpoint`) into ``model``, in place."""
    expected = model.state_dict()
    shapes = {name: tensor.shape for name, tensor in expected.items()}
    state_dict, resized = resize_state_dict(contents.state_dict, shapes, resizable_keys(model))
    optional = MULTICLASS_HEAD_PREFIXES if contents.layout != "samseg" else ()
    _check_compatible(state_dict, shapes, optional, contents.path)
    with torch.no_grad():
        model.load_state_dict(state_dict, strict=False)
    initialised = sorted(set(expected) - set(state_dict))
    return LoadReport(contents.path, contents.layout, resized, initialised, contents.metadata)


def _check_compatible(
    found: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Size],
    optional_prefixes: tuple[str, ...],
    path: Path,
) -> None:
    """Raise SamsegInputError listing wrongly shaped, missing and unexpected entries."""
    problems = [
        f"{name}: expected {tuple(expected[name])}, found {tuple(tensor.shape)}"
        for name, tensor in found.items()
        if name in expected and tensor.shape != expected[name]
    ]
    problems += [
        f"missing {name} {tuple(shape)}"
        for name, shape in expected.items()
        if name not in found and not name.startswith(optional_prefixes)
    ]
    problems += [
        f"unexpected {name} {tuple(tensor.shape)}"
        for name, tensor in found.items()
        if name not in expected
    ]
    if not problems:
        return
    listed = "; ".join(problems[:MAX_LISTED])
    more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
    raise SamsegInputError(
        f"{path}: the checkpoint does not fit the model: {len(problems)} mismatches, first: "
        f"{listed}{more}.{_architecture_hint(found, expected)}{_lora_hint(found, expected)}"
    )


def has_lora_entries(state_dict: Mapping[str, object]) -> bool:
    """Whether a state dict holds LoRA layers (peft's ``lora_A`` / ``lora_B`` names)."""
    return any(".lora_" in name for name in state_dict)


def _lora_hint(found: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Size]) -> str:
    """Explain a LoRA / plain mix-up between file and model."""
    if has_lora_entries(found) and not has_lora_entries(expected):
        return (
            " The file holds LoRA layers and the model has none: build it with the same "
            "LoRA settings (build_sam(..., lora=...)) or merge LoRA before saving."
        )
    if has_lora_entries(expected) and not has_lora_entries(found):
        return " The model has LoRA layers and the file has none: load the file before apply_lora."
    return ""


def _architecture_hint(
    found: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Size]
) -> str:
    """Name the architecture the file seems to hold when it differs from the model's."""
    file_tinyvit, model_tinyvit = _TINYVIT_STEM_WEIGHT in found, _TINYVIT_STEM_WEIGHT in expected
    if file_tinyvit != model_tinyvit:
        holds = "a TinyViT (litemedsam)" if file_tinyvit else "a ViT (vit_*)"
        model = "TinyViT (litemedsam)" if model_tinyvit else "ViT (vit_*)"
        return f" The file holds {holds} image encoder; the model's is a {model} one."
    if _PATCH_WEIGHT not in found or _PATCH_WEIGHT not in expected:
        return ""
    found_dim, expected_dim = found[_PATCH_WEIGHT].shape[0], expected[_PATCH_WEIGHT][0]
    if found_dim == expected_dim:
        return ""
    guess = guess_model_type(found_dim)
    holds = f"a {guess} image encoder" if guess else f"an encoder of width {found_dim}"
    return f" The file holds {holds}; the model's width is {expected_dim}."
