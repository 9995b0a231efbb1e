"""PG-SAM's text prior for a training run: which source, and the (C, D) embeddings it gives.

The source is chosen without editing code, first match wins:

1. the environment variable ``SAMSEG_pgsam_text``: a path to a text-settings JSON file;
2. ``pgsam_text.json`` in the raw dataset folder (``RAW/DatasetXXX_Name/``);
3. ``pgsam_text.json`` in the preprocessed dataset folder.

The file holds :class:`~samseg.models.pgsam.TextPriorSettings` fields, e.g.
``{"source": "clip", "clip_path": "/models/clip-vit-base-patch32",
"descriptions": "builtin:synapse"}`` or ``{"source": "file", "embeddings_file": "x.pt"}``;
relative paths are relative to the file's folder. Nothing configured is an error (the
learned-embedding ablation is ``PGSAMLearnedPriorTrainer``, never a silent fallback).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from samseg.errors import SamsegConfigError
from samseg.models.pgsam.clip_text import ClipTextEncoder
from samseg.models.pgsam.descriptions import BUILTIN_PREFIX, ClassDescriptions
from samseg.models.pgsam.text_prior import (
    TextPriorSettings,
    cache_key,
    cached_embeddings,
    load_text_embeddings,
)

TEXT_SETTINGS_VARIABLE = "SAMSEG_pgsam_text"
TEXT_SETTINGS_FILE = "pgsam_text.json"
TEXT_CACHE_FOLDER = "pgsam_text_cache"
"""Below the preprocessed dataset folder: cached text embeddings, one file per cache key."""


def configured_text_settings(dataset_folders: Sequence[Path]) -> TextPriorSettings:
    """The text settings of ``SAMSEG_pgsam_text``, else of the first dataset folder's
    ``pgsam_text.json``.

    Args:
        dataset_folders: the raw and preprocessed dataset folders, in lookup order.

    Raises:
        SamsegConfigError: nothing configured, a missing or malformed settings file.
    """
    variable = os.environ.get(TEXT_SETTINGS_VARIABLE)
    if variable:
        path = Path(variable)
        if not path.is_file():
            raise SamsegConfigError(
                f"{TEXT_SETTINGS_VARIABLE}={variable}: expected a PG-SAM text-settings JSON "
                "file, found no such file"
            )
        return read_text_settings(path)
    for folder in dataset_folders:
        if (folder / TEXT_SETTINGS_FILE).is_file():
            return read_text_settings(folder / TEXT_SETTINGS_FILE)
    looked = ", ".join(str(folder / TEXT_SETTINGS_FILE) for folder in dataset_folders)
    raise SamsegConfigError(
        f"PG-SAM text prior: expected {TEXT_SETTINGS_VARIABLE} or one of {looked}, found "
        'none. Write e.g. {"source": "clip", "clip_path": "/path/to/clip", '
        '"descriptions": "builtin:synapse"} or {"source": "file", "embeddings_file": '
        '"embeddings.pt"}; PGSAMLearnedPriorTrainer trains without text '
        "(documentation/pgsam.md)"
    )


def read_text_settings(path: Path) -> TextPriorSettings:
    """The settings of one JSON file, relative paths resolved against its folder.

    Raises:
        SamsegConfigError: unreadable JSON or unknown fields (naming the file).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SamsegConfigError(f"{path}: expected PG-SAM text settings (JSON): {error}") from None
    settings = TextPriorSettings.from_json(data, str(path))
    resolved = {}
    for name in ("descriptions", "clip_path", "embeddings_file"):
        value = getattr(settings, name)
        if value and not value.startswith(BUILTIN_PREFIX) and not Path(value).is_absolute():
            resolved[name] = str(path.parent / value)
    return replace(settings, **resolved)


@dataclass
class TextPrior:
    """A run's class text embeddings and, for the ``clip`` source, its encoder.

    Attributes:
        settings: where they come from.
        embeddings: (C, D) float32 embeddings (learned source: ``None``).
        descriptions: the class texts (``clip`` and ``file`` sources).
        encoder: the CLIP text encoder (``clip``), trainable when it carries LoRA.
        cache_key: the key the embeddings are cached under (``clip``).
    """

    settings: TextPriorSettings
    embeddings: torch.Tensor | None
    descriptions: ClassDescriptions | None = None
    encoder: ClipTextEncoder | None = None
    cache_key: str = ""

    @property
    def dim(self) -> int:
        """D, the embedding width."""
        return self.settings.learned_dim if self.embeddings is None else self.embeddings.shape[1]

    def current(self) -> torch.Tensor:
        """(C, D) embeddings from the encoder's current weights (``clip`` source only)."""
        if self.encoder is None or self.descriptions is None:
            raise ValueError("only a clip text prior re-encodes its descriptions")
        return self.encoder(self.descriptions.descriptions)


def prepare_text_prior(
    settings: TextPriorSettings, class_names: Sequence[str], where: str, cache_folder: Path
) -> TextPrior:
    """The embeddings of ``settings`` for the classes ``class_names`` of ``where``.

    A frozen CLIP encoder's embeddings come from the cache (computed on a miss); with text
    LoRA they are computed now and again at every training step.

    Raises:
        SamsegConfigError / SamsegInputError: a missing encoder or file, descriptions or
            embeddings of other classes.
    """
    if settings.source == "learned":
        return TextPrior(settings, None)
    if settings.source == "file":
        descriptions, embeddings, _ = load_text_embeddings(settings.embeddings_file)
        descriptions.check_matches(class_names, where)
        return TextPrior(settings, embeddings, descriptions)
    descriptions = ClassDescriptions.load(settings.descriptions)
    descriptions.check_matches(class_names, where)
    encoder = ClipTextEncoder(settings.clip_path, settings.text_lora_rank)
    key = cache_key(encoder.identity(), descriptions)
    if settings.text_lora_rank:
        with torch.no_grad():
            embeddings = encoder(descriptions.descriptions).detach()
    else:
        embeddings = cached_embeddings(
            cache_folder, key, lambda: encoder(descriptions.descriptions), descriptions.names
        )
    return TextPrior(settings, embeddings, descriptions, encoder, key)
