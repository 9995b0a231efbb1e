"""Overlay PNGs of the cases where the compared methods disagree most.

A case's disagreement is the spread (largest minus smallest) of the methods' overall Dice on
it. For each of the most disagreed-on cases, ``overlays/CASE.png`` shows one panel per method
at the same slice, the one where the methods' predictions differ on the most voxels: the image,
the reference contours (lime) and the method's contours (red) of every class, the method's
overall Dice of the case in its title. Slices are turned to radiological convention as the
evaluation's overlays are (``samseg.evaluation.views``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from samseg.evaluation.labels import EvaluationLabels, class_mask
from samseg.evaluation.overlays import PREDICTION_COLOUR, REFERENCE_COLOUR
from samseg.evaluation.views import display_view, stored_view
from samseg.io import ImageReaderWriter, atomic_output


def most_disagreed_cases(overall_dice: Mapping[str, Mapping[str, float]], count: int) -> list[str]:
    """The ``count`` cases with the largest spread of overall Dice across methods.

    Args:
        overall_dice: method -> case -> overall Dice (NaN where undefined).
    """
    methods = list(overall_dice)
    cases = sorted(overall_dice[methods[0]])
    spread = {}
    for case in cases:
        values = [overall_dice[m][case] for m in methods if not np.isnan(overall_dice[m][case])]
        spread[case] = max(values) - min(values) if values else -1.0
    return sorted(cases, key=lambda case: -spread[case])[:count]


def write_disagreement_overlay(
    path: Path,
    identifier: str,
    image_file: Path,
    reference_file: Path,
    predictions: Mapping[str, Path],
    overall_dice: Mapping[str, float],
    labels: EvaluationLabels,
    reader: ImageReaderWriter,
) -> Path:
    """Write one case's picture (module docstring) to ``path``; return it.

    Args:
        predictions: method -> its segmentation file of the case.
        overall_dice: method -> its overall Dice of the case.
    """
    image, geometry = reader.read_images([image_file])
    reference = reader.read_segmentation(reference_file)[0][0]
    masks = {m: reader.read_segmentation(p)[0][0] for m, p in predictions.items()}
    view = (
        display_view(geometry.direction, geometry.spacing)
        if geometry.dimension == 3
        else stored_view(geometry.spacing)
    )
    picture = view.apply(image[0])
    reference = view.apply(reference)
    masks = {m: view.apply(mask) for m, mask in masks.items()}
    k = _most_disagreed_slice(list(masks.values()))
    figure = Figure(figsize=(3.2 * len(masks), 3.8), dpi=100)
    for index, (method, mask) in enumerate(masks.items()):
        axes = figure.add_subplot(1, len(masks), index + 1)
        low, high = np.percentile(picture[k], (0.5, 99.5))
        aspect = view.spacing[1] / view.spacing[2]
        axes.imshow(picture[k], cmap="gray", vmin=low, vmax=max(high, low + 1e-6), aspect=aspect)
        for segmentation, colour in ((reference, REFERENCE_COLOUR), (mask, PREDICTION_COLOUR)):
            _contours(axes, segmentation[k], labels, colour)
        axes.set_title(f"{method}\nDice {overall_dice[method]:.3f}", fontsize=8)
        axes.set_axis_off()
    where = f"slice {view.file_slice(k, len(reference))}"
    figure.suptitle(f"{identifier}, {where}: reference lime, method red", fontsize=10)
    with atomic_output(path) as temporary:
        FigureCanvasAgg(figure).print_png(temporary)
    return path


def _most_disagreed_slice(masks: Sequence[np.ndarray]) -> int:
    """The view slice where the most voxels are not labelled alike by every method."""
    stacked = np.stack(masks)
    differing = np.any(stacked != stacked[:1], axis=0)
    return int(np.argmax(np.count_nonzero(differing, axis=(1, 2))))


def _contours(axes, segmentation: np.ndarray, labels: EvaluationLabels, colour: str) -> None:
    for label_or_region in labels.classes:
        mask = class_mask(segmentation, label_or_region)
        if mask.any() and not mask.all():
            axes.contour(mask.astype(np.uint8), levels=[0.5], colors=colour, linewidths=1.0)
