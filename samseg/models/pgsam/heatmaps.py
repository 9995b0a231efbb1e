"""PNG overlays of PG-SAM's per-class guide heatmaps on the network's input image.

One file per class, ``FOLDER/{prefix}_{class name}.png``: the input image in grey with the
class's heatmap (the classwise guide's softmax over classes, 0-1, upsampled bilinearly from
the G x G embedding grid to the S x S input) drawn over it in a colour map, half transparent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from PIL import Image

from samseg.io import atomic_output

HEATMAP_ALPHA = 0.5


def heatmap_overlay(image: torch.Tensor, heatmap: torch.Tensor) -> np.ndarray:
    """(S, S, 3) uint8 RGB: ``image`` in grey under ``heatmap`` in the ``jet`` colour map.

    Args:
        image: (3, S, S) or (S, S) network input (any range; min-max scaled for display).
        heatmap: (G, G) values in [0, 1].
    """
    grey = image.float().mean(0) if image.dim() == 3 else image.float()
    grey = (grey - grey.min()) / (grey.max() - grey.min()).clamp_min(1e-8)
    size = grey.shape[-2:]
    upsampled = F.interpolate(heatmap[None, None].float(), size, mode="bilinear")[0, 0]
    colours = colormaps["jet"](upsampled.clamp(0, 1).numpy())[..., :3]
    mixed = (1 - HEATMAP_ALPHA) * grey.numpy()[..., None] + HEATMAP_ALPHA * colours
    return (255 * mixed).round().astype(np.uint8)


def write_heatmap_overlays(
    folder: Path,
    prefix: str,
    image: torch.Tensor,
    heatmaps: torch.Tensor,
    class_names: Sequence[str],
) -> list[Path]:
    """Write one overlay PNG per class; return the files written.

    Args:
        folder: output folder (created).
        prefix: file name prefix (e.g. the case and slice).
        image: (3, S, S) network input of one slice.
        heatmaps: (C, G, G) that slice's heatmaps (``PGSAMOutput.guide.heatmaps[i]``).
        class_names: the C class names.

    Raises:
        ValueError: not one class name per heatmap.
    """
    if len(class_names) != len(heatmaps):
        raise ValueError(
            f"expected one class name per heatmap ({len(heatmaps)}), found {list(class_names)}"
        )
    written = []
    for name, heatmap in zip(class_names, heatmaps.detach().cpu(), strict=True):
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        path = Path(folder) / f"{prefix}_{safe}.png"
        with atomic_output(path) as temporary:
            Image.fromarray(heatmap_overlay(image.detach().cpu(), heatmap)).save(
                temporary, format="PNG"
            )
        written.append(path)
    return written
