"""Where PG-SAM's class text embeddings come from, and their on-disk forms.

Three sources (``TextPriorSettings.source``), never chosen silently:

- ``clip``: a Hugging Face CLIP text model and its tokenizer from a local folder
  (:class:`~samseg.models.pgsam.clip_text.ClipTextEncoder`) embed the class descriptions.
- ``file``: precomputed embeddings (:func:`save_text_embeddings` writes one; another machine
  with a CLIP checkpoint can make it), checked against the dataset's class names.
- ``learned``: no text: a learned (C, D) class embedding, the explicit ablation.

Embedded descriptions are cached in a folder, keyed by the encoder (config, weights, tokenizer
files, length) and the descriptions, so a frozen encoder embeds them once. The network stores
the (C, D) embeddings in its state dict, so prediction needs no text encoder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import torch

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.io import atomic_output
from samseg.models.pgsam.descriptions import ClassDescriptions

TextSource = Literal["clip", "file", "learned"]
TEXT_SOURCES: tuple[str, ...] = get_args(TextSource)
EMBEDDINGS_FORMAT = "samseg_pgsam_text_embeddings"


@dataclass(frozen=True, kw_only=True)
class TextPriorSettings:
    """Which text prior a PG-SAM network gets.

    Attributes:
        source: ``clip``, ``file`` or ``learned`` (see the module docstring).
        descriptions: description file or ``builtin:synapse`` / ``builtin:demo`` (``clip``).
        clip_path: folder of the CLIP text model and tokenizer (``clip``).
        embeddings_file: precomputed embeddings (``file``).
        text_lora_rank: rank of LoRA on the CLIP text encoder's q/v (``clip``); 0: frozen.
        learned_dim: width D of the learned class embedding (``learned``).
    """

    source: TextSource
    descriptions: str = ""
    clip_path: str = ""
    embeddings_file: str = ""
    text_lora_rank: int = 0
    learned_dim: int = 512

    def __post_init__(self) -> None:
        needed = {"clip": ("descriptions", "clip_path"), "file": ("embeddings_file",)}
        missing = [name for name in needed.get(self.source, ()) if not getattr(self, name)]
        if self.source not in TEXT_SOURCES or missing:
            raise SamsegConfigError(
                f"PG-SAM text prior: expected source one of {list(TEXT_SOURCES)} with its "
                f"settings (clip: descriptions, clip_path; file: embeddings_file), found "
                f"source {self.source!r}" + (f" without {', '.join(missing)}" if missing else "")
            )
        if self.text_lora_rank < 0 or (self.text_lora_rank and self.source != "clip"):
            raise SamsegConfigError(
                "PG-SAM text prior: text_lora_rank must be >= 0 and needs source 'clip', "
                f"found {self.text_lora_rank} with source {self.source!r}"
            )

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON-able dict (the log and the trainer's record)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: object, where: str) -> TextPriorSettings:
        """Parse :meth:`to_json` output (a user's ``pgsam_text.json``).

        Raises:
            SamsegConfigError: not a dict of the known fields (naming ``where``).
        """
        fields = set(cls.__dataclass_fields__)
        if not isinstance(data, dict) or not set(data) <= fields or "source" not in data:
            raise SamsegConfigError(
                f"{where}: expected a JSON object with 'source' and any of {sorted(fields)}, "
                f"found {data!r}"
            )
        return cls(**data)


def cache_key(encoder_identity: str, descriptions: ClassDescriptions) -> str:
    """sha256 of the encoder identity and every class's name and description."""
    texts = descriptions.descriptions
    payload = json.dumps({"encoder": encoder_identity, "names": descriptions.names, "texts": texts})
    return hashlib.sha256(payload.encode()).hexdigest()


def save_text_embeddings(
    path: str | os.PathLike,
    descriptions: ClassDescriptions,
    embeddings: torch.Tensor,
    encoder_id: str,
) -> None:
    """Write (C, D) ``embeddings`` of ``descriptions`` as a ``file`` source (torch file)."""
    if embeddings.dim() != 2 or len(embeddings) != descriptions.num_classes:
        raise ValueError(
            f"expected ({descriptions.num_classes}, D) embeddings, found {tuple(embeddings.shape)}"
        )
    content = {
        "format": EMBEDDINGS_FORMAT,
        "names": list(descriptions.names),
        "descriptions": list(descriptions.descriptions),
        "embeddings": embeddings.detach().float().cpu().contiguous(),
        "encoder_id": encoder_id,
    }
    with atomic_output(path) as temporary:
        torch.save(content, temporary)


def load_text_embeddings(path: str | os.PathLike) -> tuple[ClassDescriptions, torch.Tensor, str]:
    """Read a file written by :func:`save_text_embeddings`: descriptions, (C, D), encoder id.

    Raises:
        SamsegInputError: a missing file, or content of another layout (named).
    """
    path = Path(path)
    if not path.is_file():
        raise SamsegInputError(f"{path}: expected a PG-SAM text-embeddings file, found no file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for unreadable files
        raise SamsegInputError(f"{path}: expected a torch file, found: {error}") from None
    valid = (
        isinstance(content, dict)
        and content.get("format") == EMBEDDINGS_FORMAT
        and isinstance(content.get("embeddings"), torch.Tensor)
        and content["embeddings"].dim() == 2
        and len(content.get("names", ())) == len(content["embeddings"])
    )
    if not valid:
        raise SamsegInputError(
            f"{path}: expected {{'format': {EMBEDDINGS_FORMAT!r}, 'names', 'descriptions', "
            "'embeddings' (C, D), 'encoder_id'}} (save_text_embeddings), found "
            f"{sorted(content) if isinstance(content, dict) else type(content).__name__}"
        )
    descriptions = ClassDescriptions(
        tuple(content["names"]), tuple(content["descriptions"]), str(path)
    )
    return descriptions, content["embeddings"].float(), str(content.get("encoder_id", ""))


def cached_embeddings(
    folder: Path, key: str, compute: Callable[[], torch.Tensor], names: tuple[str, ...]
) -> torch.Tensor:
    """The (C, D) embeddings stored under ``key`` in ``folder``, else ``compute()`` stored.

    Args:
        folder: the cache folder (created when needed).
        key: :func:`cache_key` of encoder and descriptions.
        compute: ``() -> (C, D)`` tensor, called on a cache miss.
        names: the class names, recorded beside the embeddings.
    """
    path = folder / f"{key}.pt"
    if path.is_file():
        content = torch.load(path, map_location="cpu", weights_only=True)
        if content.get("key") == key:
            return content["embeddings"]
    with torch.no_grad():
        embeddings = compute().detach().float().cpu()
    with atomic_output(path) as temporary:
        torch.save({"key": key, "names": list(names), "embeddings": embeddings}, temporary)
    return embeddings
