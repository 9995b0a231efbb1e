"""PNG pictures of reference and prediction contours over the image, where they disagree most.

One file per case and class, ``FOLDER/CASE_<class name>.png``, with up to three axial (z)
slices side by side: the slices with the most voxels that the reference and the prediction
disagree on, shown in increasing z. A class both agree on completely is shown at its largest
slice; a class absent from both is not drawn. Matplotlib's Agg canvas renders without a display.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from samseg.evaluation.labels import EvaluationLabels, class_mask
from samseg.io import atomic_output

REFERENCE_COLOUR = "lime"
PREDICTION_COLOUR = "red"


def chosen_slices(reference: np.ndarray, prediction: np.ndarray, count: int) -> list[int]:
    """Up to ``count`` z indices to show for one class, sorted; empty when both masks are.

    Args:
        reference: (z, y, x) boolean mask of the class in the reference.
        prediction: (z, y, x) boolean mask in the prediction.
    """
    disagreement = np.count_nonzero(reference ^ prediction, axis=(1, 2))
    if disagreement.any():
        ranked = np.argsort(-disagreement, kind="stable")[:count]
        return sorted(int(z) for z in ranked if disagreement[z] > 0)
    area = np.count_nonzero(reference, axis=(1, 2))
    return [int(np.argmax(area))] if area.any() else []


def write_overlays(
    folder: Path,
    identifier: str,
    image: np.ndarray | None,
    reference: np.ndarray,
    prediction: np.ndarray,
    labels: EvaluationLabels,
    spacing: Sequence[float],
    *,
    slices_per_class: int = 3,
) -> list[Path]:
    """Write one PNG per class of one case; return the files written.

    Args:
        folder: where the PNG files go (created if missing).
        identifier: the case identifier, first part of every file name.
        image: (z, y, x) intensities of the case's first channel, or ``None`` (black background).
        reference: (z, y, x) integer reference labels.
        prediction: (z, y, x) integer predicted labels.
        labels: the classes to draw.
        spacing: (z, y, x) voxel size in mm, for the pixel aspect ratio.
    """
    written = []
    for label_or_region, name in zip(labels.classes, labels.names, strict=True):
        reference_mask = class_mask(reference, label_or_region)
        prediction_mask = class_mask(prediction, label_or_region)
        slices = chosen_slices(reference_mask, prediction_mask, slices_per_class)
        if not slices:
            continue
        figure = _figure(identifier, name, image, reference_mask, prediction_mask, slices, spacing)
        path = folder / f"{identifier}_{re.sub(r'[^A-Za-z0-9.-]+', '_', name)}.png"
        with atomic_output(path) as temporary:
            FigureCanvasAgg(figure).print_png(temporary)
        written.append(path)
    return written


def _figure(
    identifier: str,
    name: str,
    image: np.ndarray | None,
    reference: np.ndarray,
    prediction: np.ndarray,
    slices: list[int],
    spacing: Sequence[float],
) -> Figure:
    figure = Figure(figsize=(4 * len(slices), 4.6), dpi=100)
    for index, z in enumerate(slices):
        axes = figure.add_subplot(1, len(slices), index + 1)
        picture = np.zeros(reference.shape[1:]) if image is None else image[z]
        low, high = np.percentile(picture, (0.5, 99.5))
        axes.imshow(
            picture,
            cmap="gray",
            vmin=low,
            vmax=max(high, low + 1e-6),
            aspect=spacing[1] / spacing[2],
        )
        for mask, colour in ((reference[z], REFERENCE_COLOUR), (prediction[z], PREDICTION_COLOUR)):
            if mask.any() and not mask.all():
                axes.contour(mask.astype(np.uint8), levels=[0.5], colors=colour, linewidths=1.2)
        disagree = int(np.count_nonzero(reference[z] ^ prediction[z]))
        axes.set_title(f"z = {z}: {disagree} voxels disagree", fontsize=9)
        axes.set_axis_off()
    legend = [
        Line2D([], [], color=REFERENCE_COLOUR, label="reference"),
        Line2D([], [], color=PREDICTION_COLOUR, label="prediction"),
    ]
    figure.legend(handles=legend, loc="lower center", ncol=2, fontsize=9, frameon=False)
    note = "" if image is not None else " (no image found)"
    figure.suptitle(f"{identifier}: {name}{note}", fontsize=11)
    return figure
