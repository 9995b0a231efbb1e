"""The embedding cache of frozen-encoder trainers (see documentation/training.md).

Image embeddings (and chosen encoder block outputs) of every network-input frame of the
preprocessed slices, computed once per (plans, configuration, encoder weights, frame geometry)
and stored compressed next to the preprocessed data, so that a trainer whose image encoder is
frozen trains its decoder without running the encoder at every step.
"""

from samseg.training.cache.build import build_embedding_cache
from samseg.training.cache.key import CacheKey, encoder_weights_hash
from samseg.training.cache.settings import EmbeddingCacheSettings
from samseg.training.cache.store import EmbeddingCache
from samseg.training.cache.stream import CachedBatchStream

__all__ = [
    "CacheKey",
    "CachedBatchStream",
    "EmbeddingCache",
    "EmbeddingCacheSettings",
    "build_embedding_cache",
    "encoder_weights_hash",
]
