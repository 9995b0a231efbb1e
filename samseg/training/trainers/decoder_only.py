"""Decoder-only training: SAM's image encoder frozen, the prompt-free multi-class decoder (and
the prompt encoder) trained from an embedding cache, so the encoder runs once per view.

Works with every model type (``vit_*`` and ``litemedsam``). The checkpoint holds the whole
network (the frozen encoder's weights included), so ``samseg_predict`` runs it like any other.
"""

from __future__ import annotations

from samseg.training.cache import EmbeddingCacheSettings
from samseg.training.trainer import SAMTrainer


class SAMDecoderOnlyTrainer(SAMTrainer):
    """Frozen encoder, prompt-free multi-class decoder trained from cached embeddings."""

    freezing_policy = "decoder"
    embedding_cache = EmbeddingCacheSettings()
    initial_lr = 5e-4
    weight_decay = 0.01
    num_workers = 0
