"""Training batches from an embedding cache: cached views drawn as the slice loader draws
slices (random views, the last ones of a batch for foreground), made inline."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from samseg.training.batch import TrainingBatch
from samseg.training.cache.store import CachedCase, EmbeddingCache
from samseg.training.data.closing_stream import ClosingStream
from samseg.training.data.sampling import oversampled_count
from samseg.training.data.targets import ClassIndexTargets


class CachedBatchStream(ClosingStream):
    """Infinite :class:`~samseg.training.batch.TrainingBatch` es of cached embeddings.

    A sample takes a random case, then a random view of it; the last
    ``ceil(B * foreground_oversampling)`` samples of a batch take a random case, a foreground
    label value uniformly among those in its views, and a random view holding it (a case
    without foreground gives a random view), as ``samseg.training.data.sampling`` does with
    slices. The stream is a function of ``seed`` alone. A batch's ``sampled_classes`` holds the
    class index each view was drawn for (-1 for a random view).

    Args:
        cache: a cache holding every case of ``case_ids``.
        case_ids: the cases to draw from.
        targets: label value -> class index mapping.
        batch_size: views per batch.
        foreground_oversampling: fraction of each batch drawn for foreground, in [0, 1].
        seed: seed of the draws.
    """

    def __init__(
        self,
        cache: EmbeddingCache,
        case_ids: Sequence[str],
        *,
        targets: ClassIndexTargets,
        batch_size: int,
        foreground_oversampling: float,
        seed: int,
    ) -> None:
        self.cases: dict[str, CachedCase] = {c: cache.open_case(c) for c in dict.fromkeys(case_ids)}
        self.case_ids = list(self.cases)
        self.targets = targets
        self.batch_size = batch_size
        self.forced = oversampled_count(batch_size, foreground_oversampling)
        self.rng = np.random.default_rng(seed)
        self._views_with = {
            c: _views_by_foreground_value(case, targets) for c, case in self.cases.items()
        }

    def __iter__(self) -> CachedBatchStream:
        return self

    def __next__(self) -> TrainingBatch:
        picks = [
            self._draw(index >= self.batch_size - self.forced) for index in range(self.batch_size)
        ]
        embeddings = np.stack([self.cases[c].embeddings[i] for c, i, _ in picks])
        labels = np.stack([self.cases[c].labels[i] for c, i, _ in picks])
        blocks = {}
        if picks and self.cases[picks[0][0]].blocks:
            for block in self.cases[picks[0][0]].blocks:
                stacked = np.stack([self.cases[c].blocks[block][i] for c, i, _ in picks])
                blocks[block] = torch.from_numpy(stacked.astype(np.float32))
        return TrainingBatch(
            target=torch.from_numpy(self.targets(labels)),
            keys=[c for c, _, _ in picks],
            embeddings=torch.from_numpy(embeddings.astype(np.float32)),
            block_features=blocks,
            sampled_classes=torch.tensor([v for _, _, v in picks], dtype=torch.int64),
        )

    def _draw(self, foreground: bool) -> tuple[str, int, int]:
        """(case, view, class index drawn for, -1 for a random view)."""
        case_id = self.case_ids[self.rng.integers(len(self.case_ids))]
        with_value = self._views_with[case_id]
        if foreground and with_value:
            values = sorted(with_value)
            value = values[self.rng.integers(len(values))]
            views = with_value[value]
            view = int(views[self.rng.integers(len(views))])
            return case_id, view, int(self.targets(np.array(value)))
        return case_id, int(self.rng.integers(len(self.cases[case_id].views))), -1

    def close(self) -> None:
        """Nothing runs in the background; present for the stream protocol."""



def _views_by_foreground_value(case: CachedCase, targets: ClassIndexTargets) -> dict[int, list]:
    """Foreground label value -> indices of the views holding it (ignore label left out)."""
    found: dict[int, list[int]] = {}
    for index, view in enumerate(case.views):
        for value in view.label_values:
            if value > 0 and targets(np.array(value)) > 0:
                found.setdefault(value, []).append(index)
    return found
