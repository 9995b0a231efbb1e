"""A randomly initialised CLIP text model and a character-level CLIP tokenizer, saved with
``save_pretrained``: for tests and CPU benchmarks on machines without CLIP weights.

The folder loads like a real checkpoint (``ClipTextEncoder``, ``local_files_only``), so the
real loading code runs. Its embeddings carry **no language knowledge**: they tell texts apart
(distinct texts give distinct vectors) and nothing more. The tokenizer's vocabulary is the
byte-level alphabet, plain and word-final, with no merges (one token per character).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

START, END = "<|startoftext|>", "<|endoftext|>"


def write_random_clip(
    folder: Path,
    *,
    width: int = 32,
    layers: int = 2,
    heads: int = 2,
    projection: int = 16,
    max_length: int = 24,
    seed: int = 0,
) -> Path:
    """Save a seeded random ``CLIPTextModelWithProjection`` and its tokenizer to ``folder``.

    Args:
        folder: output folder (created).
        width, layers, heads: transformer width, depth and attention heads.
        projection: D, the width of ``text_embeds``.
        max_length: tokens per text (positions of the model, length of the tokenizer).
        seed: seeds the weights.

    Returns:
        ``folder``.
    """
    from tokenizers import pre_tokenizers
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    symbols = [*alphabet, *(c + "</w>" for c in alphabet), START, END]
    vocabulary, merges = folder / "vocab.json", folder / "merges.txt"
    vocabulary.write_text(json.dumps({symbol: i for i, symbol in enumerate(symbols)}))
    merges.write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        vocab=str(vocabulary), merges=str(merges), model_max_length=max_length
    )
    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        intermediate_size=4 * width,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=max_length,
        projection_dim=projection,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = CLIPTextModelWithProjection(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    vocabulary.unlink()
    merges.unlink()
    return folder
