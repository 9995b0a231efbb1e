"""PNG pictures of reference and prediction contours over the image, where they disagree most.

One file per case and class, ``FOLDER/CASE_<class name>.png``, with up to three slices side by
side: the slices with the most voxels that the reference and the prediction disagree on, in
the plane of the file's own slices, turned to radiological convention (see
:mod:`samseg.evaluation.views`) and shown in increasing view order (inferior to superior,
anterior to posterior, right to left). A class both agree on completely is shown at its
largest slice; a class absent from both is not drawn. Matplotlib's Agg canvas renders without
a display.
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
from samseg.evaluation.views import EDGE_LETTERS, DisplayView, display_view, stored_view
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
    direction: Sequence[float] | None = None,
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
        direction: the row-major 3x3 direction cosines (SimpleITK, LPS) of the arrays; slices
            are drawn in radiological convention. ``None`` draws z slices as stored (2D images).
    """
    view = stored_view(spacing) if direction is None else display_view(direction, spacing)
    image = None if image is None else view.apply(image)
    reference, prediction = view.apply(reference), view.apply(prediction)
    written = []
    for label_or_region, name in zip(labels.classes, labels.names, strict=True):
        reference_mask = class_mask(reference, label_or_region)
        prediction_mask = class_mask(prediction, label_or_region)
        slices = chosen_slices(reference_mask, prediction_mask, slices_per_class)
        if not slices:
            continue
        masks = (reference_mask, prediction_mask)
        figure = _figure(identifier, name, image, masks, slices, view)
        path = folder / f"{identifier}_{re.sub(r'[^A-Za-z0-9.-]+', '_', name)}.png"
        with atomic_output(path) as temporary:
            FigureCanvasAgg(figure).print_png(temporary)
        written.append(path)
    return written


def _figure(
    identifier: str,
    name: str,
    image: np.ndarray | None,
    masks: tuple[np.ndarray, np.ndarray],
    slices: list[int],
    view: DisplayView,
) -> Figure:
    """The figure of one class; arrays are (slice, row, column) views, masks boolean."""
    reference, prediction = masks
    figure = Figure(figsize=(4 * len(slices), 4.6), dpi=100)
    for index, k in enumerate(slices):
        axes = figure.add_subplot(1, len(slices), index + 1)
        picture = np.zeros(reference.shape[1:]) if image is None else image[k]
        low, high = np.percentile(picture, (0.5, 99.5))
        axes.imshow(
            picture,
            cmap="gray",
            vmin=low,
            vmax=max(high, low + 1e-6),
            aspect=view.spacing[1] / view.spacing[2],
        )
        for mask, colour in ((reference[k], REFERENCE_COLOUR), (prediction[k], PREDICTION_COLOUR)):
            if mask.any() and not mask.all():
                axes.contour(mask.astype(np.uint8), levels=[0.5], colors=colour, linewidths=1.2)
        _edge_letters(axes, view.plane)
        disagree = int(np.count_nonzero(reference[k] ^ prediction[k]))
        where = f"z = {view.file_slice(k, len(reference))}"
        plane = "" if view.plane == "stored" else f"{view.plane}, "
        axes.set_title(f"{plane}{where}: {disagree} voxels disagree", fontsize=9)
        axes.set_axis_off()
    legend = [
        Line2D([], [], color=REFERENCE_COLOUR, label="reference"),
        Line2D([], [], color=PREDICTION_COLOUR, label="prediction"),
    ]
    figure.legend(handles=legend, loc="lower center", ncol=2, fontsize=9, frameon=False)
    note = "" if image is not None else " (no image found)"
    figure.suptitle(f"{identifier}: {name}{note}", fontsize=11)
    return figure


def _edge_letters(axes, plane: str) -> None:
    """Patient directions at the left, right, top and bottom edges of a slice."""
    if plane not in EDGE_LETTERS:
        return
    places = ((0.02, 0.5, "left", "center"), (0.98, 0.5, "right", "center"))
    places += ((0.5, 0.98, "center", "top"), (0.5, 0.02, "center", "bottom"))
    for letter, (x, y, horizontal, vertical) in zip(EDGE_LETTERS[plane], places, strict=True):
        axes.text(
            x, y, letter, transform=axes.transAxes, ha=horizontal, va=vertical, fontsize=8,
            color="yellow",
        )
