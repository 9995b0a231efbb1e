"""Synthetic volumes and plans for the preprocessing tests (imported by the test modules)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.plans import ChannelNormalization, LabelHandling, Plans, SliceConfiguration


def write_volume(array: np.ndarray, path: Path, spacing: Sequence[float]) -> Path:
    """Write a (z, y, x) array with ``spacing`` (mm, z, y, x) to ``path`` with SimpleITK."""
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(tuple(float(s) for s in reversed(spacing)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(image, str(path))
    return path


def make_plans(
    *,
    transpose_forward: tuple[int, int, int] = (0, 1, 2),
    target_spacing: tuple[float, float, float] = (3.0, 1.0, 1.0),
    normalization: Sequence[tuple[str, float, float]] = (("CTNormalization", -125.0, 275.0),),
    label_values: tuple[int, ...] = (0, 1, 2, 3),
    ignore_label: int | None = None,
) -> Plans:
    """A valid Plans object with one 2D configuration."""
    configuration = SliceConfiguration(
        input_size=256,
        large_slice_handling="resize",
        sliding_window_step=0.5,
        context_slices=1,
        batch_size=2,
        model_type="vit_b",
        data_identifier="samsegPlans_2d",
    )
    return Plans(
        dataset_name="Dataset990_Test",
        plans_name="samsegPlans",
        planner="test",
        image_reader_writer="SimpleITKIO",
        slice_axis=transpose_forward[0],
        transpose_forward=transpose_forward,
        original_median_spacing=target_spacing,
        target_spacing=target_spacing,
        median_shape_after_resampling=(8, 32, 32),
        normalization=tuple(ChannelNormalization(*n) for n in normalization),
        label_handling=LabelHandling(
            class_names=tuple(f"class{v}" for v in label_values if v != ignore_label),
            label_values=label_values,
            ignore_label=ignore_label,
        ),
        configurations={"2d_256": configuration, "2d_512": configuration},
        gpu_memory_target_gb=8.0,
    )


def synthetic_case(seed: int, shape: tuple[int, int, int] = (6, 40, 48)) -> tuple:
    """A CT-like (z, y, x) int16 image with a zero border and a label with classes 1-3."""
    rng = np.random.default_rng(seed)
    image = np.zeros(shape, dtype=np.int16)
    label = np.zeros(shape, dtype=np.uint8)
    body = (slice(1, shape[0]), slice(3, shape[1] - 4), slice(5, shape[2] - 2))
    image[body] = rng.integers(-300, 400, size=image[body].shape)
    label[1:4, 10:20, 10:25] = 1
    label[3:5, 22:30, 20:40] = 2
    label[2, 5:30, 30] = 3
    return image, label
