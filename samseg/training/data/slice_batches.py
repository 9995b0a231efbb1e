"""One training batch of SAM inputs from the preprocessed store (runs in a loader worker).

Per sample: draw a slice (:class:`SliceSampler`), read just it and its context neighbours
(``sam_input_slices`` on the lazily decompressed blosc2 array, as the predictor does), and
bring it to the source size of the augmentation through the configuration's
:class:`~samseg.slice_frame.SliceFrame`, the geometry the predictor uses:

- slices the frame resizes to fill (``resize_to_fill`` configurations, except large slices of
  sliding-window ones): the whole slice is resized to S x S (images bilinear, labels nearest;
  ``samseg.training.data.resize``), exactly as the predictor treats them
  (``samseg.inference.tiling``);
- windowed slices (``fixed_scale`` configurations, and large slices of ``resize_to_fill``
  sliding-window ones): the slice is resampled into the network frame by the zoom (images
  bilinear, labels nearest), then an S x S patch is taken (``crop_origin``: random, or centred
  on a voxel of the oversampled class), a short side zero-padded as the predictor pads it.

Outside ``resize`` configurations spatial augmentation takes a P x P source around the S x S
view (``source_size``) so that rotated corners hold data: the region around the patch (or
around a resized slice), zeros outside the slice. ``resize`` configurations rotate the S x S
resized slice itself; corners from outside it are zeros there as well.

Then the batchgenerators transforms run (under this worker's own random state) and the labels
become class indices.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from batchgenerators.dataloading.data_loader import SlimDataLoaderBase

from samseg.plans import SliceConfiguration
from samseg.preprocessing.properties import CaseProperties
from samseg.preprocessing.storage import StoredCase, load_case
from samseg.slice_frame import SliceFrame
from samseg.slices import SAM_CHANNELS, sam_input_slices
from samseg.training.data.augmentation import (
    AugmentationSettings,
    build_transforms,
    source_size,
)
from samseg.training.data.crop import crop_origin, padded_crop
from samseg.training.data.random_state import GlobalRandomScope
from samseg.training.data.resize import resize_images, resize_labels
from samseg.training.data.sampling import SliceSample, SliceSampler
from samseg.training.data.targets import ClassIndexTargets


class SliceBatchGenerator(SlimDataLoaderBase):
    """Infinite batches ``{"images", "target", "keys", "sampled_classes"}`` as numpy arrays.

    ``images`` is (B, 3, S, S) float32 in 0-255, ``target`` (B, S, S) int64 class indices
    (``IGNORE_INDEX`` for the ignore label), ``keys`` the B case ids, ``sampled_classes``
    (B,) int64 the class index the foreground oversampling drew each sample for, -1 for a
    random slice.

    Random numbers come from ``SeedSequence([seed, rank, thread_id])``: batchgenerators sets
    ``thread_id`` in each worker process before the first batch, so workers and ranks draw
    different, reproducible streams; a generator run inline is worker 0.

    Args:
        folder: the preprocessed data folder (``PREPROCESSED/Dataset/<data_identifier>``).
        properties: case id -> properties of the cases to draw from.
        configuration: the plans configuration (input size, large slice handling, context).
        targets: label value -> class index mapping.
        batch_size: samples per batch.
        augmentation: the augmentation settings.
        foreground_oversampling: fraction of each batch drawn for foreground.
        seed: base seed.
        rank: distributed rank.
    """

    def __init__(
        self,
        *,
        folder: Path,
        properties: Mapping[str, CaseProperties],
        configuration: SliceConfiguration,
        targets: ClassIndexTargets,
        batch_size: int,
        augmentation: AugmentationSettings,
        foreground_oversampling: float,
        seed: int,
        rank: int,
    ) -> None:
        super().__init__(None, batch_size)
        self.folder = folder
        self.configuration = configuration
        self.targets = targets
        size = configuration.input_size
        self.transforms = build_transforms(augmentation, patch_size=size)
        resizes_all = configuration.large_slice_handling == "resize"
        self.source_size = size if resizes_all else source_size(augmentation, size)
        self.seed = seed
        self.rank = rank
        self.sampler = SliceSampler(properties, foreground_oversampling)
        self._open_cases: dict[str, StoredCase] = {}
        self._random: tuple[np.random.Generator, GlobalRandomScope] | None = None

    def __getstate__(self) -> dict:
        """Pickled for spawned workers without open arrays or started random streams."""
        return {**self.__dict__, "_open_cases": {}, "_random": None}

    def generate_train_batch(self) -> dict:
        """The next batch (see the class docstring)."""
        rng, scope = self._random_streams()
        samples = self.sampler.draw(rng, self.batch_size)
        shape = (len(samples), SAM_CHANNELS, self.source_size, self.source_size)
        data = np.empty(shape, dtype=np.float32)
        seg = np.empty((len(samples), 1, *shape[2:]), dtype=np.float32)
        for index, sample in enumerate(samples):
            self._read_sample(sample, rng, data[index], seg[index, 0])
        with scope.active():
            batch = self.transforms(data=data, seg=seg)
        return {
            "images": np.ascontiguousarray(batch["data"], dtype=np.float32),
            "target": self.targets(batch["seg"][:, 0]),
            "keys": [sample.case_id for sample in samples],
            "sampled_classes": self._sampled_classes(samples),
        }

    def _sampled_classes(self, samples: list[SliceSample]) -> np.ndarray:
        """(B,) int64 class index of each sample's oversampled label value, -1 for none."""
        values = [-1 if s.foreground_value is None else s.foreground_value for s in samples]
        classes = np.where(np.array(values) >= 0, self.targets(np.maximum(values, 0)), -1)
        return np.maximum(classes, -1).astype(np.int64)

    def _read_sample(
        self,
        sample: SliceSample,
        rng: np.random.Generator,
        image_out: np.ndarray,
        label_out: np.ndarray,
    ) -> None:
        """Write (3, P, P) image and (P, P) labels of ``sample`` into the outputs."""
        case = self._case(sample.case_id)
        image = sam_input_slices(
            case.data, [sample.slice_index], self.configuration.context_slices
        )[0]
        label = np.asarray(case.label[0, sample.slice_index])
        patch, size = self.configuration.input_size, self.source_size
        margin = (size - patch) // 2
        frame = SliceFrame.for_configuration(label.shape, self.configuration)
        if frame.resamples:
            image = resize_images(image, frame.framed_shape)
            label = resize_labels(label, frame.framed_shape)
        if frame.resizes:
            top = left = 0
        else:
            top, left = crop_origin(label.shape, patch, rng, label, sample.foreground_value)
        padded_crop(image, top - margin, left - margin, size, out=image_out)
        padded_crop(label, top - margin, left - margin, size, out=label_out)

    def _case(self, case_id: str) -> StoredCase:
        if case_id not in self._open_cases:
            self._open_cases[case_id] = load_case(self.folder, case_id)
        return self._open_cases[case_id]

    def _random_streams(self) -> tuple[np.random.Generator, GlobalRandomScope]:
        """This worker's sampling generator and transform scope, made on the first batch."""
        if self._random is None:
            sequence = np.random.SeedSequence([self.seed, self.rank, self.thread_id])
            sampling, transforms = sequence.spawn(2)
            scope = GlobalRandomScope(int(transforms.generate_state(1)[0]))
            self._random = (np.random.default_rng(sampling), scope)
        return self._random
