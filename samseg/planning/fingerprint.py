"""Dataset fingerprint: what planning needs to know about every training case.

``samseg_dataset_fingerprint.json`` (samseg's own name, so that nnU-Net's
``dataset_fingerprint.json`` in a shared folder is never touched) has nnU-Net's keys
(``spacings``, ``shapes_after_crop``, ``foreground_intensity_properties_per_channel``,
``median_relative_size_after_cropping``) so nnU-Net users can read it as they are used to
(per case in the file's own voxel order), plus samseg's class statistics and each case's
``orientations`` (axis codes). Reading every case is also where the dataset is validated:
each case is checked as it is read, so a bad file is reported before any plan or preprocessed
data is written.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from samseg.dataset import CaseFiles, DatasetDescription
from samseg.errors import SamsegInputError
from samseg.io import ImageGeometry
from samseg.io.orientation import axis_codes
from samseg.preprocessing.cropping import nonzero_bounding_box
from samseg.preprocessing.labels import slice_presence
from samseg.worker_pool import worker_pool

FINGERPRINT_FILE = "samseg_dataset_fingerprint.json"
FOREGROUND_SAMPLES_TOTAL = 10_000_000
FOREGROUND_SAMPLING_SEED = 1234
PERCENTILES = (0.5, 50.0, 99.5)


@dataclass
class CaseFingerprint:
    """What one training case contributes to the fingerprint.

    Attributes:
        spacing: mm, (z, y, x).
        shape_after_crop: voxels, (z, y, x), after cropping to the non-zero region.
        relative_size_after_crop: cropped voxel count / original voxel count.
        dimension: 2 or 3, as read from the file.
        foreground_samples: per channel, intensities of randomly chosen foreground voxels.
        class_voxel_counts: label value -> number of voxels.
        class_slice_counts: label value -> number of slices containing it along axis 0, 1, 2.
        label_is_empty: the label holds no foreground value (the case is kept, with a warning).
        orientation: axis codes of the image's voxel order (``samseg.io.orientation``).
    """

    spacing: tuple[float, float, float]
    shape_after_crop: tuple[int, int, int]
    relative_size_after_crop: float
    dimension: int
    foreground_samples: list[np.ndarray]
    class_voxel_counts: dict[int, int]
    class_slice_counts: dict[int, tuple[int, int, int]]
    label_is_empty: bool
    orientation: str


def fingerprint_case(
    case: CaseFiles, description: DatasetDescription, samples_per_case: int, seed: Sequence[int]
) -> CaseFingerprint:
    """Read, validate and measure one training case.

    Raises :class:`SamsegInputError` naming the file for unreadable images, NaN/inf
    intensities, image/label shape or spacing mismatches and label values not declared in
    dataset.json. An empty label is only recorded (``label_is_empty``).
    """
    reader_writer = description.image_reader_writer()
    images, geometry = reader_writer.read_images(case.images)
    if images.shape[0] != description.num_channels:
        raise SamsegInputError(
            f"{case.images[0]}: expected the {description.num_channels} channels "
            f"{list(description.channel_names)} of dataset.json, found {images.shape[0]}"
        )
    label, label_geometry = reader_writer.read_segmentation(case.label)
    if label.shape[1:] != images.shape[1:]:
        raise SamsegInputError(
            f"{case.label}: expected the shape of its image {case.images[0].name}, "
            f"{images.shape[1:]} (z, y, x), found {label.shape[1:]}"
        )
    if not label_geometry.matches(geometry):
        raise SamsegInputError(
            f"{case.label}: expected the geometry of its image {case.images[0].name}, found "
            + "; ".join(geometry_differences(geometry, label_geometry))
        )
    declared = description.labels.label_values
    lowest = int(label.min())
    counts = np.bincount(label.ravel().clip(0), minlength=declared[-1] + 1)
    present = {int(v) for v in np.flatnonzero(counts)} | ({lowest} if lowest < 0 else set())
    undeclared = sorted(present - set(declared))
    if undeclared:
        raise SamsegInputError(
            f"{case.label}: expected only the label values declared in dataset.json "
            f"{declared}, found {undeclared}"
        )

    cropped_shape = nonzero_bounding_box(images).shape
    foreground = label[0] > 0
    if description.labels.ignore_label is not None:
        foreground &= label[0] != description.labels.ignore_label
    rng = np.random.default_rng(list(seed))
    samples = []
    for channel in images:
        voxels = channel[foreground]
        picks = rng.integers(0, len(voxels), samples_per_case) if len(voxels) else []
        samples.append(voxels[picks])
    return CaseFingerprint(
        spacing=geometry.spacing,
        shape_after_crop=cropped_shape,
        relative_size_after_crop=float(np.prod(cropped_shape) / np.prod(images.shape[1:])),
        dimension=geometry.dimension,
        foreground_samples=samples,
        class_voxel_counts={v: int(counts[v]) for v in declared},
        class_slice_counts=_slices_per_class(label[0], len(counts)),
        label_is_empty=not present & set(description.labels.foreground_values),
        orientation=axis_codes(geometry.direction),
    )


def geometry_differences(expected: ImageGeometry, found: ImageGeometry) -> list[str]:
    """What differs between two geometries, each part as ``NAME FOUND, not EXPECTED``, printed
    to six decimals (enough to see any difference ``ImageGeometry.matches`` refuses)."""

    def show(values: Sequence[float]) -> str:
        return "(" + ", ".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in values) + ")"

    parts = []
    if not np.allclose(expected.spacing, found.spacing, rtol=1e-4, atol=0):
        parts.append(f"spacing {show(found.spacing)} mm (z, y, x), not {show(expected.spacing)}")
    if not np.allclose(expected.origin, found.origin, rtol=0, atol=1e-3):
        parts.append(f"origin {show(found.origin)} mm (x, y, z), not {show(expected.origin)}")
    if not np.allclose(expected.direction, found.direction, rtol=0, atol=1e-4):
        parts.append(
            f"direction {show(found.direction)}, not {show(expected.direction)} (direction "
            "cosines, row-major 3x3: the label's axes point elsewhere than the image's)"
        )
    return parts or [f"spacing {found.spacing}, origin {found.origin}, direction {found.direction}"]


def _slices_per_class(label: np.ndarray, num_values: int) -> dict[int, tuple[int, int, int]]:
    """Label value -> number of slices containing it along each axis of the (z, y, x) label."""
    per_axis = [
        slice_presence(np.moveaxis(label, axis, 0), num_values).sum(axis=0) for axis in range(3)
    ]
    return {v: tuple(int(counts[v]) for counts in per_axis) for v in range(num_values)}


def extract_fingerprint(
    cases: Sequence[CaseFiles], description: DatasetDescription, num_processes: int = 1
) -> dict:
    """Fingerprint every training case (``num_processes`` workers) and summarize.

    Returns the JSON-able fingerprint file content.
    """
    samples_per_case = FOREGROUND_SAMPLES_TOTAL // max(len(cases), 1)
    arguments = [
        (case, description, samples_per_case, (FOREGROUND_SAMPLING_SEED, index))
        for index, case in enumerate(cases)
    ]
    fingerprints: list[CaseFingerprint] = []
    with tqdm(desc="fingerprint", total=len(cases), unit="case") as progress:
        if num_processes <= 1:
            results = (fingerprint_case(*argument) for argument in arguments)
            _collect(results, cases, fingerprints, progress)
        else:
            with worker_pool(num_processes) as pool:
                results = pool.map(fingerprint_case, *zip(*arguments, strict=True))
                _collect(results, cases, fingerprints, progress)
    _check_dimensions(cases, fingerprints)
    return _summarize(cases, fingerprints, description)


def _collect(
    results: Iterable[CaseFingerprint],
    cases: Sequence[CaseFiles],
    fingerprints: list[CaseFingerprint],
    progress: tqdm,
) -> None:
    """Append each case's fingerprint as it arrives; an empty label gets a warning line of its
    own above the progress bar."""
    for case, fingerprint in zip(cases, results, strict=True):
        fingerprints.append(fingerprint)
        if fingerprint.label_is_empty:
            progress.write(
                f"warning: {case.label}: the label is empty (no foreground); the case is kept",
                file=sys.stderr,
            )
        progress.update()


def _check_dimensions(cases: Sequence[CaseFiles], fingerprints: list[CaseFingerprint]) -> None:
    dimensions = [f.dimension for f in fingerprints]
    majority = max(set(dimensions), key=dimensions.count)
    for case, dimension in zip(cases, dimensions, strict=True):
        if dimension != majority:
            raise SamsegInputError(
                f"{case.images[0]}: expected a {majority}D image like the other cases of the "
                f"dataset, found a {dimension}D image"
            )


def _summarize(
    cases: Sequence[CaseFiles], fingerprints: list[CaseFingerprint], description: DatasetDescription
) -> dict:
    intensity_properties = {}
    for channel in range(description.num_channels):
        values = np.concatenate([f.foreground_samples[channel] for f in fingerprints]).astype(
            np.float64
        )
        if values.size == 0:
            values = np.zeros(1)
        low, median, high = np.percentile(values, PERCENTILES)
        intensity_properties[str(channel)] = {
            "max": float(values.max()),
            "mean": float(values.mean()),
            "median": float(median),
            "min": float(values.min()),
            "percentile_00_5": float(low),
            "percentile_99_5": float(high),
            "std": float(values.std()),
        }
    label_values = description.labels.label_values
    return {
        "foreground_intensity_properties_per_channel": intensity_properties,
        "median_relative_size_after_cropping": float(
            np.median([f.relative_size_after_crop for f in fingerprints])
        ),
        "shapes_after_crop": [list(f.shape_after_crop) for f in fingerprints],
        "spacings": [list(f.spacing) for f in fingerprints],
        "case_identifiers": [case.identifier for case in cases],
        "orientations": [f.orientation for f in fingerprints],
        "class_voxel_counts": {
            str(v): int(sum(f.class_voxel_counts.get(v, 0) for f in fingerprints))
            for v in label_values
        },
        "class_slice_counts": {
            str(v): [
                int(sum(f.class_slice_counts.get(v, (0, 0, 0))[axis] for f in fingerprints))
                for axis in range(3)
            ]
            for v in label_values
        },
    }


def fingerprint_path(preprocessed_folder: Path) -> Path:
    """Where the fingerprint of a dataset lives."""
    return preprocessed_folder / FINGERPRINT_FILE
