"""A Hugging Face CLIP text tower and its own tokenizer, read from a local folder.

Both come from the same folder (``save_pretrained`` output, e.g. a downloaded
``openai/clip-vit-base-patch32`` snapshot) with ``local_files_only=True``: nothing downloads.
Texts are padded to the tokenizer's full length (CLIP's 77 tokens), truncated, and embedded as
``text_embeds``, the projected end-of-text token (the model's own pooling). This avoids the two
defects of the released PG-SAM text path (a BERT tokenizer feeding CLIP's BPE table, and a LoRA
attention wrapper that made CLIP's tokens never mix; see documentation/pgsam.md).

Optional LoRA (peft) on the q and v projections of every text-encoder attention layer, lora_B
zero at the start, so the adapted encoder first gives exactly the frozen embeddings.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from samseg.errors import SamsegConfigError, SamsegInputError

TEXT_LORA_TARGETS = ("q_proj", "v_proj")
"""The attention projections text LoRA adapts (the release adapts q and v)."""


class ClipTextEncoder(nn.Module):
    """CLIP's text tower with projection: C texts -> (C, D) embeddings.

    Attributes:
        path: the folder model and tokenizer were read from.
        embedding_dim: D, the projection width.
        max_length: tokens per text (padding and truncation length).
    """

    def __init__(self, path: str | os.PathLike, lora_rank: int = 0) -> None:
        """
        Args:
            path: folder holding a ``CLIPTextModelWithProjection`` (or full ``CLIPModel``)
                checkpoint and its tokenizer files.
            lora_rank: rank of the q/v LoRA (alpha = rank, so the update is B A x unscaled);
                0: none, the encoder is frozen.

        Raises:
            SamsegConfigError: the folder is missing, ``transformers`` cannot read it, or the
                tokenizer's vocabulary does not fit the model's.
        """
        super().__init__()
        from transformers import AutoTokenizer, CLIPTextModelWithProjection

        self.path = Path(path)
        if not self.path.is_dir():
            raise SamsegConfigError(
                f"{self.path}: expected a folder with a CLIP text model and its tokenizer "
                "(save_pretrained output, e.g. a local openai/clip-vit-base-patch32 "
                "snapshot), found no such folder"
            )
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            model = CLIPTextModelWithProjection.from_pretrained(self.path, local_files_only=True)
        except (OSError, ValueError, KeyError) as error:
            raise SamsegConfigError(
                f"{self.path}: expected a CLIP text model and its tokenizer readable by "
                f"transformers, found: {' '.join(str(error).split())[:400]}"
            ) from None
        if len(self.tokenizer) > model.config.vocab_size:
            raise SamsegConfigError(
                f"{self.path}: expected a tokenizer of the model's vocabulary (at most "
                f"{model.config.vocab_size} tokens), found {len(self.tokenizer)} tokens"
            )
        model.requires_grad_(False)
        self.lora_rank = lora_rank
        if lora_rank > 0:
            config = LoraConfig(
                r=lora_rank,
                lora_alpha=lora_rank,
                lora_dropout=0.0,
                target_modules=list(TEXT_LORA_TARGETS),
                bias="none",
            )
            model = get_peft_model(model, config)
        self.model = model.eval()
        self.embedding_dim = int(model.config.projection_dim)
        self.max_length = int(
            min(self.tokenizer.model_max_length, model.config.max_position_embeddings)
        )

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """(C, max_length) ``input_ids`` and ``attention_mask`` of ``texts``."""
        encoded = self.tokenizer(
            list(texts),
            padding="max_length",
            max_length=self.max_length,
            truncation=True,
            return_tensors="pt",
        )
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """(C, D) float32 projected text embeddings of the C ``texts`` (not normalised).

        Raises:
            SamsegInputError: no texts.
        """
        if not texts:
            raise SamsegInputError("CLIP text encoder: expected at least one text, found none")
        device = next(self.model.parameters()).device
        tokens = {k: v.to(device) for k, v in self.tokenize(texts).items()}
        return self.model(**tokens).text_embeds.float()

    def identity(self) -> str:
        """sha256 of the model config, weights and tokenizer files (the cache key's encoder
        and tokenizer part; not of LoRA weights, which change while training)."""
        digest = hashlib.sha256()
        for file in sorted(self.path.iterdir()):
            if file.is_file():
                digest.update(file.name.encode())
                digest.update(_file_hash(file).encode())
        digest.update(f"max_length={self.max_length}".encode())
        return digest.hexdigest()


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
