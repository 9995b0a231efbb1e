"""A stub promptable network whose answer is known: the box region, or squares at the points."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import SimpleITK as sitk
import torch
from torch import nn

from samseg.models.segmenter import PromptedMasks

INSIDE, OUTSIDE = 10.0, -10.0


class _Encoded(NamedTuple):
    image_embeddings: torch.Tensor


class RegionStub(nn.Module):
    """Prompted output: +10 inside the box (inclusive pixel corners) or within ``radius``
    (Chebyshev) of each positive point, -10 elsewhere and around negative points. The
    low-resolution logits have the input size (G = S / 4, as TinyViT)."""

    def __init__(self, input_size: int, radius: int = 2) -> None:
        super().__init__()
        self.input_size = input_size
        self.radius = radius
        self.precision = "auto"
        self.decoder_batches: list[int] = []
        self.encoded = 0
        self.encoding_precisions: list[str] = []
        self.classes: list[list[int] | None] = []
        """The ``classes`` of every decoder call."""

    def encode(self, images: torch.Tensor) -> _Encoded:
        self.encoded += len(images)
        self.encoding_precisions.append(self.precision)
        grid = self.input_size // 4
        return _Encoded(torch.zeros(len(images), 256, grid, grid))

    def predict_with_prompts(
        self,
        embeddings,
        points=None,
        boxes=None,
        mask_inputs=None,
        *,
        multimask_output=False,
        classes=None,
    ) -> PromptedMasks:
        size = self.input_size
        batch = len(embeddings)
        self.decoder_batches.append(batch)
        self.classes.append(None if classes is None else classes.tolist())
        logits = torch.full((batch, 1, size, size), OUTSIDE)
        for index in range(batch):
            if boxes is not None:
                x0, y0, x1, y1 = (int(v) for v in boxes[index].tolist())
                logits[index, 0, y0 : y1 + 1, x0 : x1 + 1] = INSIDE
            if points is not None:
                coords, labels = (tensor[index].tolist() for tensor in points)
                for (x, y), label in zip(coords, labels, strict=True):
                    r, x, y = self.radius, int(x), int(y)
                    value = INSIDE if label == 1 else OUTSIDE
                    logits[index, 0, max(y - r, 0) : y + r + 1, max(x - r, 0) : x + r + 1] = value
        return PromptedMasks(logits, torch.ones(batch, 1))

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        return low_res_logits


def box_label(shape: tuple[int, int, int]) -> np.ndarray:
    """(z, y, x) uint8 label of three disjoint boxes, each absent from some z slices."""
    z, y, x = shape
    label = np.zeros(shape, dtype=np.uint8)
    label[0 : z - 2, 3:13, 4:14] = 1
    label[2:z, y // 2 + 2 : y - 3, x // 2 : x - 4] = 2
    label[0:2, y // 2 + 4 : y - 6, 2:10] = 3
    return label


def nonzero_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A CT-like int16 image without zero voxels (nothing is cropped)."""
    return np.random.default_rng(seed).integers(1, 400, size=shape).astype(np.int16)


def read(path) -> tuple[np.ndarray, sitk.Image]:
    image = sitk.ReadImage(str(path))
    return sitk.GetArrayFromImage(image), image
