"""One batch's simulated interaction: the loss of every step, as a generator.

Step 0 prompts with nothing, one uniform point inside the object or a noisy box (drawn once
per batch); steps 1 .. N give the previous step's low-resolution logits (detached) as the
mask prompt, the last and, with probability ``mask_only_probability``, any other step alone,
every other step with k ~ U{1 .. max_new_points} new points from the error region (not
accumulated with earlier ones). Every step decodes SAM's single mask. The image embeddings
enter step 0 as given (with their graph, so a trainable encoder learns from step 0) and every
later step detached, as the P²SAM code does.

The generator computes a step only when asked for it: a caller that takes an optimizer step
after each loss (the official code) gets each step decoded by the weights after the previous
step; one that sums them all gets one graph per step.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from samseg.models.segmenter import Points, SamSegmenter
from samseg.training.interactive.loss import InteractiveLoss
from samseg.training.interactive.settings import InteractionSettings
from samseg.training.interactive.simulation import (
    draw_first_prompt,
    draw_mask_only,
    draw_point_count,
    error_region_points,
    first_points,
    noisy_boxes,
)
from samseg.training.interactive.targets import BinaryTargets


def interaction_losses(
    network: SamSegmenter,
    embeddings: torch.Tensor,
    targets: BinaryTargets,
    *,
    loss: InteractiveLoss,
    settings: InteractionSettings,
    first_prompt_probabilities: tuple[float, ...],
    generator: torch.Generator,
) -> Iterator[torch.Tensor]:
    """Yield the scalar loss (with its graph) of each of the ``1 + corrective_steps`` steps.

    Args:
        network: the promptable network being trained.
        embeddings: (K, 256, G, G) image embeddings of the kept samples.
        targets: the kept samples' binary targets (K of them, K >= 1).
        loss: the per-step loss.
        settings: the interaction settings.
        first_prompt_probabilities: (no prompt, point, box) probabilities of step 0.
        generator: CPU generator of every random draw.
    """
    masks, valid = targets.masks, targets.valid

    def step_loss(points: Points | None, boxes: torch.Tensor | None, mask_inputs, image):
        output = network.predict_with_prompts(
            image, points, boxes, mask_inputs, multimask_output=False
        )
        logits = network.upscale_logits(output.low_res_logits)
        return loss(logits, output.iou_predictions, masks, valid), output.low_res_logits

    kind = draw_first_prompt(first_prompt_probabilities, generator)
    points = first_points(masks, generator) if kind == "point" else None
    boxes = None
    if kind == "box":
        boxes = noisy_boxes(
            masks, generator, fraction=settings.box_noise_fraction, cap=settings.box_noise_cap
        )
    value, previous = step_loss(points, boxes, None, embeddings)
    yield value
    embeddings = embeddings.detach()
    for step in range(1, settings.corrective_steps + 1):
        previous = previous.detach()
        last = step == settings.corrective_steps
        points = None
        if not (last or draw_mask_only(settings.mask_only_probability, generator)):
            predictions = network.upscale_logits(previous)[:, 0] > 0
            count = draw_point_count(settings.max_new_points, generator)
            points = error_region_points(predictions, masks, count, generator)
        value, previous = step_loss(points, None, previous, embeddings)
        yield value
