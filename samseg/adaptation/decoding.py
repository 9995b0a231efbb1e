"""The decoding chains of P²SAM: prompts in, one candidate mask out (single-mask output).

- ``points`` (the paper's medical chain, the official ``p2sam_medical``): points -> points +
  the previous logits as mask prompt -> points + the box of that mask + the mask prompt.
- ``box`` (samseg's extension for box-trained backbones such as LiteMedSAM, not in the paper):
  the box of the high-similarity region -> box + mask prompt -> the box of that mask + mask
  prompt; no points (a box-trained decoder reads points poorly).

Every call decodes one image (a candidate's point count is its own, and padding points would
change SAM's output); boxes are (x0, y0, x1, y1) pixels of the S x S input.
"""

from __future__ import annotations

import torch

from samseg.models.segmenter import SamSegmenter
from samseg.prompting import tight_boxes


def mask_box(
    network: SamSegmenter, low_res_logits: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor | None:
    """(1, 4) box of the (1, 1, 4G, 4G) logits' mask at input resolution inside ``valid``,
    or ``None`` when the mask is empty."""
    mask = (network.upscale_logits(low_res_logits)[:, 0] > 0) & valid.to(low_res_logits.device)
    boxes, present = tight_boxes(mask)
    return boxes if bool(present[0]) else None


def decode_points_chain(
    network: SamSegmenter,
    embedding: torch.Tensor,
    points: torch.Tensor,
    labels: torch.Tensor,
    valid: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The medical chain on one image.

    Args:
        network: the promptable network.
        embedding: (1, 256, G, G) target embedding.
        points: (N, 2) float (x, y) input pixels; labels: (N,) int64, 1 positive, 0 negative.
        valid: (S, S) bool pixels holding image.

    Returns:
        (1, 1, 4G, 4G) logits of the last step and (1,) its predicted IoU.
    """
    prompt = (points[None].to(embedding.device), labels[None].to(embedding.device))
    first = network.predict_with_prompts(embedding, prompt).low_res_logits
    second = network.predict_with_prompts(embedding, prompt, mask_inputs=first).low_res_logits
    box = mask_box(network, second, valid)
    last = network.predict_with_prompts(embedding, prompt, box, second)
    return last.low_res_logits, last.iou_predictions[:, 0]


def decode_box_chain(
    network: SamSegmenter, embedding: torch.Tensor, box: torch.Tensor, valid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The box chain on one image from a (1, 4) starting box; returns as
    :func:`decode_points_chain`."""
    box = box.to(embedding.device)
    first = network.predict_with_prompts(embedding, boxes=box).low_res_logits
    second = network.predict_with_prompts(embedding, boxes=box, mask_inputs=first).low_res_logits
    refined = mask_box(network, second, valid)
    last = network.predict_with_prompts(
        embedding, boxes=box if refined is None else refined, mask_inputs=second
    )
    return last.low_res_logits, last.iou_predictions[:, 0]
