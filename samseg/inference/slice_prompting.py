"""Prompt one slice of a preprocessed volume with given points and boxes (an interactive viewer).

:class:`SlicePrompter` answers SAM prompts on slice ``k`` of a case preprocessed with the
plans (``samseg.preprocessing.preprocess_case``, or :meth:`SlicePrompter.preprocess`):

- **frame**: points and boxes are pixel indices of the preprocessed slice, (x, y) = (column,
  row), a box (x0, y0, x1, y1) with inclusive corner pixels, as in ``samseg.prompting``. The
  whole slice is resized to the network's S x S input (bilinear, ``align_corners=False``, as
  the predictor resizes), whatever the configuration's tiling, so one frame holds every
  prompt; a slice pixel (x, y) maps to the network pixel ((x + 0.5) S / C - 0.5,
  (y + 0.5) S / R - 0.5) (pixel centres kept; SAM's prompt encoder adds the half pixel).
- **cache**: the slice's embedding is kept until another slice (or case) is prompted, so a
  viewer's successive clicks on one slice run only the prompt encoder and mask decoder.
- **output**: the single-mask logits resized back to the slice's (R, C) pixels, the mask
  (logits > 0), SAM's predicted IoU, and the low-resolution logits to pass back as ``mask``
  with the next click (SAM's interactive protocol).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from samseg.errors import SamsegInputError
from samseg.io import ImageReaderWriter, reader_writer_for
from samseg.models.segmenter import SamSegmenter
from samseg.plans import Plans
from samseg.preprocessing import PreprocessedCase, preprocess_case
from samseg.preprocessing.storage import StoredCase
from samseg.slices import sam_input_slices

Point = tuple[float, float, int]
"""(x, y, label): column and row of a slice pixel; label 1 foreground, 0 background."""
Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1): inclusive corner pixels of the slice."""


@dataclass(frozen=True)
class SlicePromptResult:
    """SAM's answer to the prompts on one slice.

    Attributes:
        mask: (R, C) bool, ``logits > 0``.
        logits: (R, C) float32 single-mask logits in the slice's pixels.
        iou: SAM's predicted IoU of the mask.
        low_res_logits: (1, 1, 4G, 4G) fp32 decoder logits; give them as ``mask`` with the
            next prompt on the same slice.
    """

    mask: np.ndarray
    logits: np.ndarray
    iou: float
    low_res_logits: torch.Tensor


class SlicePrompter:
    """Prompts slices of preprocessed cases with a promptable network (module docstring)."""

    def __init__(
        self,
        network: SamSegmenter,
        plans: Plans,
        configuration: str,
        *,
        device: torch.device | str = "cpu",
    ) -> None:
        """
        Args:
            network: a SamSegmenter (any kind: its promptable interface is used); moved to
                ``device`` and put in eval mode.
            plans: the plans the cases are preprocessed with.
            configuration: the configuration whose context slices make SAM's three channels.
            device: where the network runs.

        Raises:
            SamsegInputError: a configuration the plans do not have.
        """
        self.plans = plans
        self.configuration = plans.configuration(configuration)
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self._cached: tuple[PreprocessedCase | StoredCase, int, torch.Tensor] | None = None

    def preprocess(
        self,
        image_paths: Sequence[str | os.PathLike],
        reader_writer: ImageReaderWriter | None = None,
    ) -> PreprocessedCase:
        """A case's channel files preprocessed with the plans (its slices are what
        :meth:`prompt` indexes; ``properties`` maps them back to the raw image)."""
        paths = [Path(p) for p in image_paths]
        reader_writer = reader_writer or reader_writer_for(paths[0])
        return preprocess_case(paths, None, self.plans, reader_writer)

    def prompt(
        self,
        case: PreprocessedCase | StoredCase,
        slice_index: int,
        *,
        points: Sequence[Point] = (),
        box: Box | None = None,
        mask: torch.Tensor | None = None,
    ) -> SlicePromptResult:
        """SAM's single mask for the prompts on slice ``slice_index`` of ``case``.

        Args:
            case: a preprocessed case (``data`` (c, slices, R, C) 0-255).
            slice_index: the slice, along the preprocessed slice axis.
            points: (x, y, label) slice pixels (see the module docstring).
            box: (x0, y0, x1, y1) inclusive slice pixels, or ``None``.
            mask: the previous result's ``low_res_logits`` on this slice, or ``None``.

        Raises:
            SamsegInputError: naming the case's image file: a slice outside the volume, no
                prompt at all, a point or box outside the slice, a point label other than 0
                or 1, a box whose corners are not ordered, or a mask of the wrong shape.
        """
        num_slices, rows, columns = (int(n) for n in case.data.shape[1:])
        where = _case_name(case)
        if not 0 <= slice_index < num_slices:
            raise SamsegInputError(
                f"{where}: expected a slice index in 0..{num_slices - 1}, found {slice_index}"
            )
        if not points and box is None and mask is None:
            raise SamsegInputError(f"{where}: expected points, a box or a mask, found none")
        size = self.network.input_size
        point_prompt = None
        if points:
            coords = np.array([(p[0], p[1]) for p in points], dtype=np.float64)
            labels = [int(p[2]) for p in points]
            _check_inside(coords, rows, columns, where, "point")
            if any(label not in (0, 1) for label in labels):
                raise SamsegInputError(f"{where}: expected point labels 0 or 1, found {labels}")
            point_prompt = (
                self._tensor(self._to_network(coords, rows, columns, size))[None],
                torch.tensor([labels], dtype=torch.int64, device=self.device),
            )
        box_prompt = None
        if box is not None:
            corners = np.array(box, dtype=np.float64).reshape(2, 2)
            _check_inside(corners, rows, columns, where, "box corner")
            if np.any(corners[0] > corners[1]):
                raise SamsegInputError(
                    f"{where}: expected a box (x0, y0, x1, y1) with x0 <= x1 and y0 <= y1, "
                    f"found {tuple(box)}"
                )
            box_prompt = self._tensor(self._to_network(corners, rows, columns, size)).view(1, 4)
        with torch.inference_mode():
            embedding = self._embedding(case, slice_index)
            low_res = 4 * embedding.shape[-1]
            if mask is not None and tuple(mask.shape) != (1, 1, low_res, low_res):
                raise SamsegInputError(
                    f"{where}: expected a mask of shape (1, 1, {low_res}, {low_res}) (a "
                    f"previous low_res_logits), found {tuple(mask.shape)}"
                )
            output = self.network.predict_with_prompts(
                embedding,
                point_prompt,
                box_prompt,
                None if mask is None else mask.to(self.device, torch.float32),
            )
            logits = self.network.upscale_logits(output.low_res_logits)
            logits = F.interpolate(logits, (rows, columns), mode="bilinear", align_corners=False)
        slice_logits = logits[0, 0].float().cpu().numpy()
        return SlicePromptResult(
            mask=slice_logits > 0,
            logits=slice_logits,
            iou=float(output.iou_predictions[0, 0]),
            low_res_logits=output.low_res_logits.detach().clone(),
        )

    @staticmethod
    def _to_network(coords: np.ndarray, rows: int, columns: int, size: int) -> np.ndarray:
        """(N, 2) slice pixels (x, y) as network-input pixels (module docstring)."""
        scale = np.array([size / columns, size / rows])
        return (coords + 0.5) * scale - 0.5

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, dtype=torch.float32, device=self.device)

    def _embedding(self, case: PreprocessedCase | StoredCase, slice_index: int) -> torch.Tensor:
        """(1, 256, G, G) embedding of the resized slice, cached for the last slice."""
        cached = self._cached
        if cached is not None and cached[0] is case and cached[1] == slice_index:
            return cached[2]
        context = self.configuration.context_slices
        image = torch.from_numpy(sam_input_slices(case.data, [slice_index], context))
        size = self.network.input_size
        image = image.to(self.device)
        if tuple(image.shape[-2:]) != (size, size):
            image = F.interpolate(image, (size, size), mode="bilinear", align_corners=False)
        embedding = self.network.encode(image).image_embeddings
        self._cached = (case, slice_index, embedding)
        return embedding


def _check_inside(coords: np.ndarray, rows: int, columns: int, where: str, what: str) -> None:
    """Raise naming ``where`` when an (x, y) of ``coords`` lies outside the (rows, columns)
    slice."""
    outside = (coords[:, 0] < 0) | (coords[:, 0] > columns - 1)
    outside |= (coords[:, 1] < 0) | (coords[:, 1] > rows - 1)
    if outside.any():
        x, y = coords[int(np.argmax(outside))]
        raise SamsegInputError(
            f"{where}: expected each {what} (x, y) inside the slice's pixels, x in "
            f"0..{columns - 1} and y in 0..{rows - 1}, found ({x:g}, {y:g})"
        )


def _case_name(case: PreprocessedCase | StoredCase) -> str:
    """The case's first image file, for messages."""
    files = case.properties.provenance.files
    return files[0].name if files else "case"
