"""Click evaluation of one preprocessed case: every slice's views encoded once, then each
class prompted with a box, one point and N corrective clicks from that embedding.

Per group of slices: the SAM inputs (:func:`~samseg.slices.sam_input_slices`) and the label
maps are cut into the configuration's network-input views (:class:`PlaneTiling` ``cut`` and
``cut_labels``), each view is encoded once, and per class present in a view
:func:`~samseg.prompting.decode_prompt_mode` runs ``box``, ``point`` and ``clicks:N`` on its
embedding, with prompts simulated from the view's label. Each step's logits are mapped back to
the slice as the predictor maps them (upsampled, resized back or put in their window,
sigmoid, windows averaged with the Gaussian weights) and thresholded at probability 0.5.
Views where the class is absent get no prompt and predict nothing; slices where it is absent
are not prompted at all (they add no voxel). The counts are summed over the case's slices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from samseg.evaluation.labels import (
    EvaluationLabels,
    LabelOrRegion,
    class_key,
    class_mask,
    class_values,
)
from samseg.evaluation.prompts.measures import REFERENCE_STEPS, ClassCounts
from samseg.evaluation.prompts.settings import ClickEvaluationSettings
from samseg.inference.tiling import PlaneTiling, ProbabilityAccumulator, Window
from samseg.plans import SliceConfiguration
from samseg.prompting import PromptMode, decode_prompt_mode
from samseg.slices import sam_input_slices


def evaluate_case_prompts(
    network: Any,
    data: Any,
    label: np.ndarray,
    configuration: SliceConfiguration,
    labels: EvaluationLabels,
    settings: ClickEvaluationSettings,
    device: torch.device | str = "cpu",
    *,
    show_progress: bool = False,
    name: str = "case",
) -> dict[str, ClassCounts]:
    """Voxel counts of every class at every step (``box``, ``point``, click 1 .. N).

    Args:
        network: a promptable network on ``device`` in eval mode (``input_size``,
            ``encode``, ``predict_with_prompts``, ``upscale_logits``: a
            ``samseg.models.promptable.PromptableNetwork``).
        data: (c, slices, R, C) preprocessed volume, 0-255 (numpy or blosc2).
        label: (slices, R, C) preprocessed label map of the same grid.
        configuration: the plans configuration (input size, tiling, context slices).
        labels: the classes to prompt (labels or regions) and the ignore label.
        settings: clicks, prompting, window step, views per encoder call (``None``: 1).
        device: where the network runs.
        show_progress: a progress bar over the slices holding a class.
        name: shown on the progress bar.

    Returns:
        class key -> counts (see :class:`ClassCounts`).

    Raises:
        ValueError: data and label disagree in shape, or the network's input size is not
            the configuration's.
    """
    num_slices, rows, columns = (int(n) for n in data.shape[1:])
    if tuple(label.shape) != (num_slices, rows, columns):
        raise ValueError(
            f"label must have the volume's grid {(num_slices, rows, columns)}, found "
            f"{tuple(label.shape)}"
        )
    if int(network.input_size) != configuration.input_size:
        raise ValueError(
            f"expected a network of input size {configuration.input_size}, found "
            f"{network.input_size}"
        )
    if settings.batch_size is None:
        settings = replace(settings, batch_size=1)
    evaluator = _SliceGroupEvaluator(
        network,
        PlaneTiling.for_configuration((rows, columns), configuration, settings.step_size),
        configuration.context_slices,
        labels,
        settings,
        torch.device(device),
    )
    counts = {class_key(c): ClassCounts.zeros(settings.clicks) for c in labels.classes}
    prompted = [
        s for s in range(num_slices) if any(class_mask(label[s], c).any() for c in labels.classes)
    ]
    group = max(1, settings.batch_size // evaluator.tiling.tiles_per_slice)
    progress = tqdm(
        total=len(prompted), desc=name, unit="slice", disable=not show_progress, leave=False
    )
    with progress, torch.inference_mode():
        for start in range(0, len(prompted), group):
            centers = prompted[start : start + group]
            for key, step_counts in evaluator.counts(data, label, centers).items():
                counts[key].counts[...] += step_counts
            progress.update(len(centers))
    return counts


@dataclass(frozen=True)
class _SliceGroupEvaluator:
    """Counts of a group of slices: its views encoded once, every class prompted."""

    network: Any
    tiling: PlaneTiling
    context_slices: int
    labels: EvaluationLabels
    settings: ClickEvaluationSettings
    device: torch.device

    def counts(self, data: Any, label: np.ndarray, centers: list[int]) -> dict[str, np.ndarray]:
        """class key -> (steps, 3) TP, FP, FN of slices ``centers`` (classes present only)."""
        tiling, batch_size = self.tiling, self.settings.batch_size
        images = torch.from_numpy(sam_input_slices(data, centers, self.context_slices))
        slice_labels = np.asarray(label[centers])
        windows = tiling.windows or (None,)
        tiles = [(position, window) for position in range(len(centers)) for window in windows]
        positions = [position for position, _ in tiles]
        tile_windows = tuple(window for _, window in tiles)
        view_images = tiling.cut(images[positions], tile_windows)
        view_labels = tiling.cut_labels(torch.from_numpy(slice_labels[positions]), tile_windows)
        embeddings = torch.cat(
            [
                self.network.encode(
                    view_images[i : i + batch_size].to(self.device)
                ).image_embeddings
                for i in range(0, len(view_images), batch_size)
            ]
        )
        ignore = self.labels.ignore_label
        valid = None if ignore is None else slice_labels != ignore
        result = {}
        for cls in self.labels.classes:
            reference = class_mask(slice_labels, cls)
            if not reference.any():
                continue
            targets = class_mask(view_labels.numpy(), cls)
            probabilities = self._probabilities(
                embeddings, targets, positions, tile_windows, len(centers), _prompt_class(cls)
            )
            predicted = probabilities.cpu().numpy() > 0.5
            if valid is not None:
                predicted &= valid
            true_positives = (predicted & reference).sum(axis=(1, 2, 3))
            false_positives = predicted.sum(axis=(1, 2, 3)) - true_positives
            false_negatives = int(reference.sum()) - true_positives
            result[class_key(cls)] = np.stack(
                [true_positives, false_positives, false_negatives], axis=1
            )
        return result

    def _probabilities(
        self,
        embeddings: torch.Tensor,
        targets: np.ndarray,
        positions: list[int],
        windows: tuple[Window | None, ...],
        num_slices: int,
        class_index: int | None,
    ) -> torch.Tensor:
        """(steps, num_slices, R, C) probabilities of one class at every step; views without
        the class (``targets`` empty) count as probability 0. ``class_index``: the prompts'
        class for the network (label value - 1; ``None`` for a region)."""
        tiling, settings = self.tiling, self.settings
        modes = [PromptMode(kind) for kind in REFERENCE_STEPS]
        modes.append(PromptMode("clicks", settings.clicks))
        steps = len(REFERENCE_STEPS) + settings.clicks
        accumulator = ProbabilityAccumulator(tiling, num_slices, steps, self.device)
        present = [i for i, target in enumerate(targets) if target.any()]
        absent = [i for i, target in enumerate(targets) if not target.any()]
        if absent:
            shape = tiling.slice_shape if tiling.resizes else (tiling.input_size,) * 2
            nothing = torch.zeros((len(absent), steps, *shape), device=self.device)
            accumulator.add(nothing, [positions[i] for i in absent], [windows[i] for i in absent])
        for first in range(0, len(present), settings.batch_size):
            chosen = present[first : first + settings.batch_size]
            chosen_embeddings = embeddings[chosen]
            classes = None
            if class_index is not None:
                classes = torch.full((len(chosen),), class_index, device=self.device)
            logits = torch.cat(
                [
                    step
                    for mode in modes
                    for step in decode_prompt_mode(
                        self.network,
                        chosen_embeddings,
                        targets[chosen],
                        mode,
                        settings.prompting,
                        classes,
                    )
                ],
                dim=1,
            )
            upscaled = tiling.uncut(self.network.upscale_logits(logits))
            accumulator.add(
                torch.sigmoid(upscaled),
                [positions[i] for i in chosen],
                [windows[i] for i in chosen],
            )
        return accumulator.result()


def _prompt_class(label_or_region: LabelOrRegion) -> int | None:
    """The class index a promptable network decodes a label's prompts with (label value - 1;
    ``samseg.models.promptable``), ``None`` for a region of several labels."""
    values = class_values(label_or_region)
    return values[0] - 1 if len(values) == 1 else None
