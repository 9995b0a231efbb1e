"""What a frozen-encoder trainer caches: which block outputs, which scaled copies of a frame."""

from __future__ import annotations

from dataclasses import dataclass, fields

from samseg.training.data.augmentation import AugmentationSettings


def augmentations_switched_off(augmentation: AugmentationSettings) -> list[str]:
    """Names of the augmentations ``augmentation`` enables; none of them can be applied to a
    cached embedding, so frozen-encoder trainers that read the cache switch them all off."""
    names = [
        f.name.removesuffix("_probability")
        for f in fields(augmentation)
        if f.name.endswith("_probability") and getattr(augmentation, f.name) > 0
    ]
    return names + (["mirroring"] if augmentation.mirror_axes else [])


@dataclass(frozen=True)
class EmbeddingCacheSettings:
    """How a trainer's embedding cache is made.

    Attributes:
        return_blocks: encoder block indices whose outputs are cached besides the embedding
            (for multi-level methods; see ``EncoderFamily.block_features``).
        scales: zoom factors of the cached copies of every frame: 1.0 is the frame the
            predictor sees; 1.25 shows its centre 1.25x larger, 0.8 a 1.25x wider view
            shrunk (zero-padded outside the slice). A cheap stand-in for scale augmentation.
        window_step: step between sliding windows of slices larger than the input, as a
            fraction of the input side (the predictor's default).
        encode_batch_size: frames per encoder call while building the cache.
    """

    return_blocks: tuple[int, ...] = ()
    scales: tuple[float, ...] = (1.0,)
    window_step: float = 0.5
    encode_batch_size: int = 4

    def __post_init__(self) -> None:
        if not self.scales or any(not 0.25 <= s <= 4 for s in self.scales):
            raise ValueError(f"expected zoom factors in [0.25, 4], found {self.scales}")
        if not 0 < self.window_step <= 1 or self.encode_batch_size < 1:
            raise ValueError(
                "expected 0 < window_step <= 1 and encode_batch_size >= 1, found "
                f"{self.window_step} and {self.encode_batch_size}"
            )
