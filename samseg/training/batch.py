"""The typed training batch every trainer seam receives, from images or from cached embeddings.

A batch comes either from the slice loader (``images``: the network runs its encoder) or from
the embedding cache (``embeddings`` and optional ``block_features``: the encoder already ran,
see ``samseg.training.cache``). Exactly one of ``images`` and ``embeddings`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

import torch

from samseg.training.data.closing_stream import ClosingStream

if TYPE_CHECKING:
    from samseg.training.data import SliceBatchStream


@dataclass(frozen=True)
class TrainingBatch:
    """One batch of B network-input slices and their class-index targets.

    Attributes:
        target: (B, S, S) int64 class indices, ``IGNORE_INDEX`` (-100) where ignored.
        keys: the B case identifiers.
        images: (B, 3, S, S) float32 in 0-255 (SAM's normalisation not applied), or ``None``.
        embeddings: (B, 256, G, G) float32 image embeddings, or ``None``.
        block_features: encoder block index -> (B, side, side, channels) float32 outputs of
            that block (cached batches only; empty otherwise).
        sampled_classes: (B,) int64 class index the foreground oversampling drew each sample
            for (present in the slice before augmentation), -1 for a random slice; ``None``
            when the stream does not say.
    """

    target: torch.Tensor
    keys: list[str]
    images: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    block_features: Mapping[int, torch.Tensor] = field(default_factory=dict)
    sampled_classes: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if (self.images is None) == (self.embeddings is None):
            raise ValueError("a TrainingBatch holds either images or embeddings, not both/none")

    @classmethod
    def from_loader(cls, batch: Mapping) -> TrainingBatch:
        """The typed form of a slice loader batch ``{"images", "target", "keys"}`` (and
        ``"sampled_classes"`` when present)."""
        return cls(
            target=batch["target"],
            keys=list(batch["keys"]),
            images=batch["images"],
            sampled_classes=batch.get("sampled_classes"),
        )

    @property
    def size(self) -> int:
        """B, the number of slices."""
        return len(self.target)

    @property
    def from_cache(self) -> bool:
        """Whether the batch holds cached embeddings instead of images."""
        return self.embeddings is not None

    def to(self, device: torch.device) -> TrainingBatch:
        """The batch with every tensor on ``device`` (non-blocking copies)."""

        def move(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.to(device, non_blocking=True)

        return replace(
            self,
            target=move(self.target),
            images=move(self.images),
            embeddings=move(self.embeddings),
            block_features={k: move(v) for k, v in self.block_features.items()},
            sampled_classes=move(self.sampled_classes),
        )


class BatchStream(Protocol):
    """An infinite iterator of :class:`TrainingBatch`; a context manager whose exit frees it."""

    def __iter__(self) -> Iterator[TrainingBatch]: ...

    def __next__(self) -> TrainingBatch: ...

    def __enter__(self) -> BatchStream: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class TypedBatches(ClosingStream):
    """Wraps a slice loader stream (dict batches) into a :class:`BatchStream`."""

    def __init__(self, stream: SliceBatchStream) -> None:
        self.stream = stream

    def __iter__(self) -> TypedBatches:
        return self

    def __next__(self) -> TrainingBatch:
        return TrainingBatch.from_loader(next(self.stream))

    def close(self) -> None:
        """Close the wrapped loader stream (its worker processes)."""
        self.stream.close()
