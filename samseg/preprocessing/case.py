"""Preprocess one case: read, reorient to the plans' orientation, crop to non-zero, put the
slice axis first, resample in-plane, normalize. Used for training data and, without a label,
by the predictor."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry, ImageReaderWriter
from samseg.plans import Plans
from samseg.preprocessing.cropping import crop_to_nonzero, nonzero_mask
from samseg.preprocessing.labels import check_label_values, class_slices
from samseg.preprocessing.normalization import normalization_for
from samseg.preprocessing.orientation import case_reorientation
from samseg.preprocessing.properties import CaseProperties
from samseg.preprocessing.provenance import case_provenance
from samseg.preprocessing.resampling import (
    in_plane_shape,
    needs_resampling,
    resample_in_plane,
    resample_labels_in_plane,
)
from samseg.preprocessing.storage import DATA_DTYPE, label_dtype

IMAGE_ORDER = 3


@dataclass(frozen=True)
class PreprocessedCase:
    """One preprocessed case in memory.

    Attributes:
        data: (channel, slice, row, column) float16, values in [0, 255].
        label: (1, slice, row, column) int8 (int16 when a value exceeds 127), or ``None``.
        properties: how the arrays relate to the raw image.
    """

    data: np.ndarray
    label: np.ndarray | None
    properties: CaseProperties


def preprocess_case(
    image_paths: Sequence[str | os.PathLike],
    label_path: str | os.PathLike | None,
    plans: Plans,
    reader_writer: ImageReaderWriter,
) -> PreprocessedCase:
    """Read and preprocess one case as the plans say.

    Steps: read the channels ((channel, z, y, x) float32) and the label; reorient both to
    ``plans.orientation`` (axis permutation and flips, exact; see
    ``samseg.preprocessing.orientation``); crop both to the images' non-zero bounding box;
    transpose so the slice axis comes first; resample rows and columns to the plans' in-plane
    target spacing (images spline order 3, labels one-hot linear; skipped when the spacing is
    within 1e-3 of the target); normalize each channel to [0, 255] with its plans scheme (the
    z-score region is the hole-filled non-zero mask, resampled like a label).

    Args:
        image_paths: one file per channel, in channel order.
        label_path: the label file, or ``None`` (prediction).
        plans: the dataset's plans.
        reader_writer: reader for the files.

    Raises:
        SamsegInputError: naming the file, for a channel count that does not match the plans,
            a label whose shape or spacing differs from the image, or label values the plans
            do not know.
    """
    image_paths = [Path(p) for p in image_paths]
    label_path = None if label_path is None else Path(label_path)
    provenance = case_provenance(image_paths, label_path, plans)
    images, labels, geometry = _read_case(image_paths, label_path, plans, reader_writer)
    original_shape = tuple(int(n) for n in images.shape[1:])
    reorientation = case_reorientation(geometry, plans)
    images = reorientation.apply(images)
    labels = None if labels is None else reorientation.apply(labels)
    oriented_spacing = reorientation.apply_to_geometry(geometry, original_shape).spacing
    images, labels, box = crop_to_nonzero(images, labels)

    axes = (0, *(1 + a for a in plans.transpose_forward))
    spacing = tuple(oriented_spacing[a] for a in plans.transpose_forward)
    shape = tuple(box.shape[a] for a in plans.transpose_forward)
    new_shape = shape[1:]
    if needs_resampling(spacing[1:], plans.in_plane_target_spacing):
        new_shape = in_plane_shape(shape[1:], spacing[1:], plans.in_plane_target_spacing)
    data = _normalized_data(images.transpose(axes), new_shape, plans)
    del images  # the raw volume is not needed while the labels are resampled
    label, slices = None, {}
    if labels is not None:
        label = resample_labels_in_plane(labels.transpose(axes), new_shape)
        label = label.astype(label_dtype(label), copy=False)
        slices = class_slices(label[0], plans.label_handling)

    properties = CaseProperties(
        original_shape=original_shape,
        geometry=geometry,
        crop_box=box,
        shape_after_crop=box.shape,
        transpose_forward=plans.transpose_forward,
        shape_after_resampling=(shape[0], *new_shape),
        spacing_after_resampling=(
            spacing[0],
            *(s * n / m for s, n, m in zip(spacing[1:], shape[1:], new_shape, strict=True)),
        ),
        class_slices=slices,
        provenance=provenance,
        reorientation=reorientation,
    )
    return PreprocessedCase(data=data, label=label, properties=properties)


def _read_case(
    image_paths: list[Path],
    label_path: Path | None,
    plans: Plans,
    reader_writer: ImageReaderWriter,
) -> tuple[np.ndarray, np.ndarray | None, ImageGeometry]:
    """(channel, z, y, x) float32 images, (1, z, y, x) labels or ``None``, and the geometry,
    checked against each other and the plans."""
    images, geometry = reader_writer.read_images(image_paths)
    if images.shape[0] != len(plans.normalization):
        raise SamsegInputError(
            f"{image_paths[0]}: expected {len(plans.normalization)} channel files (one per plans "
            f"normalization entry), found {images.shape[0]}"
        )
    if label_path is None:
        return images, None, geometry
    labels, label_geometry = reader_writer.read_segmentation(label_path)
    _check_label_matches_image(labels, label_geometry, images, geometry, label_path)
    check_label_values(labels[0], plans.label_handling, label_path)
    return images, labels, geometry


def _normalized_data(images: np.ndarray, new_shape: tuple[int, int], plans: Plans) -> np.ndarray:
    """Resample and normalize each channel of (channel, slice, row, column) ``images``.

    Returns (channel, slice, *new_shape) float16 in [0, 255]; one channel at a time is held in
    float32. Without resampling, channels are normalized in place in ``images``.
    """
    schemes = [normalization_for(n) for n in plans.normalization]
    mask = None
    if any(scheme.needs_mask for scheme in schemes):
        region = nonzero_mask(images).view(np.uint8)
        mask = resample_labels_in_plane(region, new_shape).view(bool)
    data = np.empty((images.shape[0], images.shape[1], *new_shape), dtype=DATA_DTYPE)
    for channel, scheme in enumerate(schemes):
        data[channel] = scheme(resample_in_plane(images[channel], new_shape, IMAGE_ORDER), mask)
    return data


def _check_label_matches_image(
    labels: np.ndarray,
    label_geometry: ImageGeometry,
    images: np.ndarray,
    geometry: ImageGeometry,
    label_path: Path,
) -> None:
    """Raise a SamsegInputError naming the label file when its grid differs from the image's."""
    same_spacing = np.allclose(label_geometry.spacing, geometry.spacing, rtol=1e-4, atol=0)
    if labels.shape[1:] != images.shape[1:] or not same_spacing:
        raise SamsegInputError(
            f"{label_path}: expected the image's shape {tuple(images.shape[1:])} and spacing "
            f"{tuple(geometry.spacing)}, found {tuple(labels.shape[1:])} and "
            f"{tuple(label_geometry.spacing)}"
        )
