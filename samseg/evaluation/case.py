"""Score one case: every class of a reference/prediction pair, from one pass over the volume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import find_objects

from samseg.errors import SamsegInputError
from samseg.evaluation.checks import check_label_values, check_same_geometry
from samseg.evaluation.labels import EvaluationLabels, class_mask, class_values
from samseg.evaluation.metrics import Metrics, class_metrics
from samseg.evaluation.overlays import write_overlays
from samseg.io import ImageGeometry, ImageReaderWriter


@dataclass(frozen=True)
class CaseResult:
    """The metrics of one case.

    Attributes:
        identifier: case identifier (file name without the ending).
        reference_file: the reference label file.
        prediction_file: the predicted label file.
        metrics: summary.json class key -> metric name -> value.
    """

    identifier: str
    reference_file: Path
    prediction_file: Path
    metrics: dict[str, Metrics]


@dataclass(frozen=True)
class CaseTask:
    """Everything a worker process needs to score one case (picklable)."""

    identifier: str
    reference_file: Path
    prediction_file: Path
    labels: EvaluationLabels
    reader_writer: ImageReaderWriter
    nsd_tolerance_mm: float
    synapse_protocol: bool
    overlay_folder: Path | None = None
    image_file: Path | None = None


def evaluate_arrays(
    reference: np.ndarray,
    prediction: np.ndarray,
    labels: EvaluationLabels,
    spacing: Sequence[float],
    *,
    nsd_tolerance_mm: float = 2.0,
    synapse_protocol: bool = False,
) -> dict[str, Metrics]:
    """Metrics of every class of one case.

    Ignored voxels (reference == ``labels.ignore_label``) count for no class in either array.
    Bounding boxes of all labels come from one pass per array; each class is then scored on
    the box of its reference and predicted voxels only.

    Args:
        reference: (z, y, x) or (y, x) non-negative integer reference labels.
        prediction: integer predicted labels, same shape.
        labels: the classes to score.
        spacing: voxel size per axis in mm, same axis order.
        nsd_tolerance_mm: tolerance of the normalized surface Dice, in mm.
        synapse_protocol: Dice and HD95 (voxels) as TransUNet computes them.

    Returns:
        summary.json class key -> metrics (see :data:`samseg.evaluation.metrics.METRIC_NAMES`).
    """
    if reference.shape != prediction.shape:
        raise ValueError(
            f"expected arrays of the same shape, found reference {reference.shape} and "
            f"prediction {prediction.shape}"
        )
    num_valid = reference.size
    if labels.ignore_label is not None:
        ignored = reference == labels.ignore_label
        prediction = np.where(ignored, labels.ignore_label, prediction)
        num_valid -= int(np.count_nonzero(ignored))
    highest = labels.highest_value
    reference_boxes = find_objects(reference, max_label=highest) if highest else []
    prediction_boxes = find_objects(prediction, max_label=highest) if highest else []
    results = {}
    for label_or_region, key in zip(labels.classes, labels.keys, strict=True):
        values = class_values(label_or_region)
        if 0 in values:
            box = tuple(slice(0, n) for n in reference.shape)
        else:
            boxes = [b[v - 1] for b in (reference_boxes, prediction_boxes) for v in values]
            box = _union([b for b in boxes if b is not None], reference.ndim)
        results[key] = class_metrics(
            class_mask(reference[box], label_or_region),
            class_mask(prediction[box], label_or_region),
            spacing=spacing,
            nsd_tolerance_mm=nsd_tolerance_mm,
            num_valid_voxels=num_valid,
            synapse_protocol=synapse_protocol,
        )
    return results


def evaluate_case(task: CaseTask) -> CaseResult:
    """Read, check and score one case (and draw its overlays when asked)."""
    reader = task.reader_writer
    reference, reference_geometry = reader.read_segmentation(task.reference_file)
    prediction, prediction_geometry = reader.read_segmentation(task.prediction_file)
    check_same_geometry(
        task.reference_file,
        reference.shape[1:],
        reference_geometry,
        task.prediction_file,
        prediction.shape[1:],
        prediction_geometry,
    )
    check_label_values(task.reference_file, reference, task.labels.allowed_values)
    check_label_values(task.prediction_file, prediction, task.labels.allowed_values)
    reference, prediction = reference[0], prediction[0]
    spacing = reference_geometry.spacing
    options = {
        "nsd_tolerance_mm": task.nsd_tolerance_mm,
        "synapse_protocol": task.synapse_protocol,
    }
    if reference_geometry.dimension == 2:  # a 2D file: score the (y, x) image, not a volume
        metrics = evaluate_arrays(reference[0], prediction[0], task.labels, spacing[1:], **options)
    else:
        metrics = evaluate_arrays(reference, prediction, task.labels, spacing, **options)
    if task.overlay_folder is not None:
        _draw(task, reference, prediction, reference_geometry)
    return CaseResult(task.identifier, task.reference_file, task.prediction_file, metrics)


def _draw(
    task: CaseTask, reference: np.ndarray, prediction: np.ndarray, geometry: ImageGeometry
) -> None:
    image = None
    if task.image_file is not None:
        image = task.reader_writer.read_images([task.image_file])[0][0]
        if image.shape != reference.shape:
            raise SamsegInputError(
                f"{task.image_file}: expected the shape {reference.shape} of reference "
                f"{task.reference_file}, found {image.shape}"
            )
    if task.labels.ignore_label is not None:
        ignore = task.labels.ignore_label
        prediction = np.where(reference == ignore, ignore, prediction)
    direction = geometry.direction if geometry.dimension == 3 else None
    write_overlays(
        task.overlay_folder,
        task.identifier,
        image,
        reference,
        prediction,
        task.labels,
        geometry.spacing,
        direction=direction,
    )


def _union(boxes: list[tuple[slice, ...]], ndim: int) -> tuple[slice, ...]:
    if not boxes:
        return (slice(0, 0),) * ndim
    return tuple(
        slice(min(b[axis].start for b in boxes), max(b[axis].stop for b in boxes))
        for axis in range(ndim)
    )
