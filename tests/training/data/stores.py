"""Tiny preprocessed stores written directly with ``save_case``, and plans settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from samseg.io import ImageGeometry
from samseg.plans import LabelHandling, SliceConfiguration
from samseg.preprocessing import CaseProperties, CropBox, Provenance, save_case
from samseg.preprocessing.labels import class_slices

LABELS = LabelHandling(class_names=("background", "a", "b"), label_values=(0, 1, 2))


def configuration(
    input_size: int = 32, handling: str = "resize", context_slices: int = 1
) -> SliceConfiguration:
    """A plans configuration for the tests."""
    return SliceConfiguration(
        input_size=input_size,
        large_slice_handling=handling,
        sliding_window_step=0.5,
        context_slices=context_slices,
        batch_size=2,
        model_type="vit_tiny",
        data_identifier="samsegPlans_2d",
    )


def save_test_case(
    folder: Path,
    identifier: str,
    data: np.ndarray,
    label: np.ndarray,
    label_handling: LabelHandling = LABELS,
) -> None:
    """Store a (channel, slice, row, column) volume and its (slice, row, column) labels."""
    shape = tuple(int(n) for n in data.shape[1:])
    properties = CaseProperties(
        original_shape=shape,
        geometry=ImageGeometry((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)),
        crop_box=CropBox(tuple((0, n) for n in shape)),
        shape_after_crop=shape,
        transpose_forward=(0, 1, 2),
        shape_after_resampling=shape,
        spacing_after_resampling=(1.0, 1.0, 1.0),
        class_slices=class_slices(label, label_handling),
        provenance=Provenance(files=(), plans_hash="0"),
    )
    save_case(folder, identifier, data, label[None], properties)


def ramp_case(seed: int, shape=(6, 40, 48)) -> tuple[np.ndarray, np.ndarray]:
    """A (1, S, R, C) volume in [0, 255] and (S, R, C) labels 0-2 with boxes of 1 and 2."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(20, 200, (1, *shape)).astype(np.float32)
    label = np.zeros(shape, np.int8)
    label[1:4, 5:15, 6:20] = 1
    label[2:5, 20:30, 25:40] = 2
    data[0][label == 1] = 240
    return data, label
