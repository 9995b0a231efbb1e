"""Prompting a batch of images with prompts simulated from their reference masks.

:func:`decode_prompt_mode` runs one :class:`~samseg.prompting.modes.PromptMode` on a batch
of image embeddings whose reference masks are known (prompted prediction from label files,
click evaluation): it simulates the prompts (``samseg.prompting.simulation``) in the
network-input frame and returns SAM's single-mask low-resolution logits after every step,
one step for ``box`` / ``point`` / ``points:N`` and N for ``clicks:N``.

In ``clicks:N`` an image whose prediction already equals its reference gets no further click
(its logits stay as they are), so every image decoded at step k holds exactly k clicks and
no padding points are needed (padding points attend in SAM's decoder and change its output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from samseg.models.promptable import PromptableNetwork
from samseg.prompting.modes import PromptMode
from samseg.prompting.simulation import (
    corrective_click,
    farthest_interior_point,
    random_interior_points,
    tight_box,
)


@dataclass(frozen=True)
class PromptingSettings:
    """How prompts are fed to SAM.

    Attributes:
        previous_logits_as_mask: ``clicks:N``: give the previous step's low-resolution
            logits as the mask prompt (SAM's interactive protocol).
        multimask_single_point: with a single point and no mask prompt (``point``, the first
            click) take SAM's three ambiguity masks and keep the one with the highest
            predicted IoU (recommended for SA-1B SAM, whose single point is ambiguous);
            otherwise the single-mask output (interactive checkpoints are trained on it).
        seed: seed of ``points:N``'s random points.
    """

    previous_logits_as_mask: bool = True
    multimask_single_point: bool = False
    seed: int = 0


def _decode(
    network: PromptableNetwork,
    embeddings: torch.Tensor,
    points: list[np.ndarray] | None,
    labels: list[np.ndarray] | None,
    boxes: list[np.ndarray] | None,
    mask_inputs: torch.Tensor | None,
    multimask: bool,
    classes: torch.Tensor | None,
) -> torch.Tensor:
    """(B, 1, 4G, 4G) logits; the prompt lists hold one equally long array per image, and
    ``classes`` (B,) their class indices (``PromptableNetwork``) or ``None``."""
    device = embeddings.device
    point_prompt = None
    if points is not None:
        coords = torch.as_tensor(np.stack(points), dtype=torch.float32, device=device)
        label_tensor = torch.as_tensor(np.stack(labels), dtype=torch.int64, device=device)
        point_prompt = (coords, label_tensor)
    box_prompt = None
    if boxes is not None:
        box_prompt = torch.as_tensor(np.stack(boxes), dtype=torch.float32, device=device)
    output = network.predict_with_prompts(
        embeddings,
        point_prompt,
        box_prompt,
        mask_inputs,
        multimask_output=multimask,
        classes=classes,
    )
    if not multimask:
        return output.low_res_logits
    best = output.iou_predictions.argmax(dim=1)
    return output.low_res_logits[torch.arange(len(best), device=device), best][:, None]


def _foreground(network: PromptableNetwork, low_res_logits: torch.Tensor) -> np.ndarray:
    """(B, S, S) bool: the logits upsampled to the input size, > 0."""
    return (network.upscale_logits(low_res_logits) > 0)[:, 0].cpu().numpy()


def decode_prompt_mode(
    network: PromptableNetwork,
    embeddings: torch.Tensor,
    targets: np.ndarray,
    mode: PromptMode,
    settings: PromptingSettings = PromptingSettings(),
    classes: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """SAM's logits for prompts simulated from ``targets``, after each step of ``mode``.

    Args:
        network: the promptable network.
        embeddings: (B, 256, G, G) image embeddings (``network.encode``).
        targets: (B, S, S) bool reference masks in the network-input frame; every one must
            hold a pixel (an absent object gets no prompt: leave it out of the batch).
        mode: the prompt mode.
        settings: how prompts are fed.
        classes: (B,) foreground class index of each target (label value - 1), for a network
            with per-class decoder state (``samseg.models.promptable``); ``None``: none given.

    Returns:
        ``mode.steps`` tensors of (B, 1, 4G, 4G) fp32 low-resolution logits, the state after
        step 1 .. N.

    Raises:
        ValueError: a target is empty, or targets and embeddings disagree in batch size or
            do not have the network's input size.
    """
    size = network.input_size
    if targets.ndim != 3 or targets.shape[1:] != (size, size) or len(targets) != len(embeddings):
        raise ValueError(
            f"targets must be ({len(embeddings)}, {size}, {size}) masks, found {targets.shape}"
        )
    targets = targets.astype(bool, copy=False)
    empty = [i for i, target in enumerate(targets) if not target.any()]
    if empty:
        raise ValueError(f"targets {empty} are empty: an absent object gets no prompt")
    if mode.kind == "clicks":
        return _corrective_clicks(network, embeddings, targets, mode.count, settings, classes)
    single_point = mode.kind == "point"
    if mode.kind == "box":
        boxes = [tight_box(target) for target in targets]
        return [_decode(network, embeddings, None, None, boxes, None, False, classes)]
    if single_point:
        points = [farthest_interior_point(target)[None] for target in targets]
    else:
        rng = np.random.default_rng(settings.seed)
        points = [random_interior_points(target, mode.count, rng) for target in targets]
    labels = [np.ones(len(p), dtype=np.int64) for p in points]
    multimask = single_point and settings.multimask_single_point
    return [_decode(network, embeddings, points, labels, None, None, multimask, classes)]


def _corrective_clicks(
    network: PromptableNetwork,
    embeddings: torch.Tensor,
    targets: np.ndarray,
    count: int,
    settings: PromptingSettings,
    classes: torch.Tensor | None,
) -> list[torch.Tensor]:
    """The logits after each of ``count`` corrective clicks (see the module docstring)."""
    batch = len(targets)
    grid = 4 * embeddings.shape[-1]
    logits = torch.zeros(batch, 1, grid, grid, device=embeddings.device)
    predictions = np.zeros_like(targets)
    points: list[list[tuple[int, int]]] = [[] for _ in range(batch)]
    labels: list[list[int]] = [[] for _ in range(batch)]
    history: list[torch.Tensor] = []
    for step in range(count):
        active = []
        for index in range(batch):
            click = corrective_click(predictions[index], targets[index])
            if click is None:
                continue
            points[index].append((click.x, click.y))
            labels[index].append(int(click.positive))
            active.append(index)
        if active:
            chosen = torch.as_tensor(active, device=embeddings.device)
            use_mask = step > 0 and settings.previous_logits_as_mask
            multimask = step == 0 and settings.multimask_single_point
            logits = logits.clone()
            logits[chosen] = _decode(
                network,
                embeddings[chosen],
                [np.asarray(points[i], dtype=np.float64) for i in active],
                [np.asarray(labels[i], dtype=np.int64) for i in active],
                None,
                logits[chosen] if use_mask else None,
                multimask,
                None if classes is None else classes[chosen],
            )
            predictions[active] = _foreground(network, logits[chosen])
        history.append(logits)
    return history
