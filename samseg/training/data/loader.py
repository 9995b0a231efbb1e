"""The training data stream: batches of SAM inputs made by background worker processes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from batchgenerators.dataloading.multi_threaded_augmenter import MultiThreadedAugmenter
from batchgenerators.dataloading.single_threaded_augmenter import SingleThreadedAugmenter

from samseg.errors import SamsegInputError
from samseg.plans import LARGE_SLICE_HANDLINGS, LabelHandling, SliceConfiguration
from samseg.preprocessing.properties import CaseProperties
from samseg.preprocessing.storage import CasePaths, load_case, load_properties
from samseg.slices import SAM_CHANNELS
from samseg.training.data.augmentation import AugmentationSettings
from samseg.training.data.closing_stream import ClosingStream
from samseg.training.data.slice_batches import SliceBatchGenerator
from samseg.training.data.targets import ClassIndexTargets

CACHED_BATCHES_PER_WORKER = 2


class SliceBatchStream(ClosingStream):
    """Infinite iterator of training batches; a context manager whose exit stops the workers.

    Each batch is a dict:

    - ``images``: (B, 3, S, S) torch.float32, 0-255 (SAM's pixel normalization not applied);
    - ``target``: (B, S, S) torch.int64 class indices, ``IGNORE_INDEX`` (-100) where the
      label is the dataset's ignore label;
    - ``keys``: the B case ids;
    - ``sampled_classes``: (B,) torch.int64 class index each sample was drawn for by the
      foreground oversampling, -1 for a random slice.

    With ``num_workers`` 0 batches are made inline, in the calling process; otherwise by
    batchgenerators' ``MultiThreadedAugmenter`` (worker processes, batches returned in a fixed
    round-robin order, so a seeded stream is reproducible for a given worker count).
    """

    def __init__(self, generator: SliceBatchGenerator, *, num_workers: int) -> None:
        self.num_workers = num_workers
        if num_workers == 0:
            self._augmenter = SingleThreadedAugmenter(generator, None)
        else:
            self._augmenter = MultiThreadedAugmenter(
                generator, None, num_workers, num_cached_per_queue=CACHED_BATCHES_PER_WORKER
            )

    def __iter__(self) -> SliceBatchStream:
        return self

    def __next__(self) -> dict:
        batch = next(self._augmenter)
        return {
            "images": torch.from_numpy(batch["images"]),
            "target": torch.from_numpy(batch["target"]),
            "keys": batch["keys"],
            "sampled_classes": torch.from_numpy(batch["sampled_classes"]),
        }

    def close(self) -> None:
        """Stop and join the worker processes (if any); safe to call more than once."""
        if isinstance(self._augmenter, MultiThreadedAugmenter):
            self._augmenter._finish()



def make_slice_loader(
    *,
    folder: str | os.PathLike,
    case_ids: Sequence[str],
    configuration: SliceConfiguration,
    label_handling: LabelHandling,
    batch_size: int,
    augmentation: AugmentationSettings,
    foreground_oversampling: float = 0.33,
    num_workers: int = 2,
    seed: int = 0,
    rank: int = 0,
    world_size: int = 1,
) -> SliceBatchStream:
    """A stream of (augmented) training batches of SAM inputs.

    Args:
        folder: preprocessed data folder, ``PREPROCESSED/DatasetXXX_Name/<data_identifier>``.
        case_ids: cases to draw from (e.g. a fold's training cases); each needs labels.
        configuration: the plans configuration; S = ``configuration.input_size``.
        label_handling: the plans' label handling (ignore label; region-based labels are
            refused with a SamsegInputError).
        batch_size: samples per batch.
        augmentation: ``AugmentationSettings()`` for training, ``.none()`` for validation.
        foreground_oversampling: fraction of each batch (its last ceil(B * fraction) samples)
            drawn from slices containing a foreground class.
        num_workers: worker processes; 0 makes batches inline.
        seed: base seed; a (seed, rank, worker) triple fixes a worker's stream.
        rank, world_size: distributed training: each rank draws its own random stream (from
            all ``case_ids``, so even a dataset with fewer cases than ranks works).

    Returns:
        A :class:`SliceBatchStream`; close it (or use ``with``) to stop its workers.
    """
    folder = Path(folder)
    _check_arguments(
        configuration, batch_size, foreground_oversampling, num_workers, rank, world_size
    )
    targets = ClassIndexTargets(label_handling, source=f"plans of {folder}")
    properties = _training_case_properties(folder, case_ids, configuration)
    generator = SliceBatchGenerator(
        folder=folder,
        properties=properties,
        configuration=configuration,
        targets=targets,
        batch_size=batch_size,
        augmentation=augmentation,
        foreground_oversampling=foreground_oversampling,
        seed=seed,
        rank=rank,
    )
    return SliceBatchStream(generator, num_workers=num_workers)


def _check_arguments(
    configuration: SliceConfiguration,
    batch_size: int,
    foreground_oversampling: float,
    num_workers: int,
    rank: int,
    world_size: int,
) -> None:
    if configuration.large_slice_handling not in LARGE_SLICE_HANDLINGS:
        raise SamsegInputError(
            f"expected large_slice_handling in {LARGE_SLICE_HANDLINGS}, "
            f"found {configuration.large_slice_handling!r}"
        )
    if batch_size < 1 or num_workers < 0 or not 0 <= foreground_oversampling <= 1:
        raise ValueError(
            "expected batch_size >= 1, num_workers >= 0 and 0 <= foreground_oversampling <= 1, "
            f"found {batch_size}, {num_workers} and {foreground_oversampling}"
        )
    if not 0 <= rank < world_size:
        raise ValueError(f"expected 0 <= rank < world_size, found rank {rank} of {world_size}")


def _training_case_properties(
    folder: Path, case_ids: Sequence[str], configuration: SliceConfiguration
) -> dict[str, CaseProperties]:
    """Properties of ``case_ids``, checked to be complete labelled cases SAM can take."""
    if not case_ids:
        raise SamsegInputError(f"{folder}: expected at least one training case, found none")
    paths = {c: CasePaths.of(folder, c) for c in dict.fromkeys(case_ids)}
    missing = [c for c, p in paths.items() if not p.properties.is_file()]
    unlabelled = [c for c, p in paths.items() if p.properties.is_file() and not p.label.is_file()]
    if missing or unlabelled:
        raise SamsegInputError(
            f"{folder}: expected preprocessed labelled cases, found {len(missing)} missing "
            f"{missing[:5]} and {len(unlabelled)} without labels {unlabelled[:5]}; rerun "
            "samseg_plan_and_preprocess"
        )
    channels = load_case(folder, case_ids[0]).data.shape[0]
    if channels > SAM_CHANNELS or (channels > 1 and configuration.context_slices):
        raise SamsegInputError(
            f"{folder}: expected at most {SAM_CHANNELS} image channels, and one with context "
            f"slices, found {channels} channels with context_slices "
            f"{configuration.context_slices}"
        )
    return {c: load_properties(folder, c) for c in paths}
