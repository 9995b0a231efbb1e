"""How preprocessed slices become square network inputs, and how outputs go back.

A preprocessed slice is (R, C) pixels; a network takes S x S. Two ways, chosen per
configuration (``SliceConfiguration.large_slice_handling``):

- **resize**: the whole slice is resized to S x S (bilinear, ``align_corners=False``, as
  :func:`torch.nn.functional.interpolate` does it) and the S x S logits are resized back to
  (R, C) the same way. Slices that fit into S x S are always resized, whatever the
  configuration says.
- **sliding window**: when a slice side exceeds S, S x S windows cover the slice at full
  resolution, nnU-Net style: per axis ``ceil((size - S) / (step * S)) + 1`` windows spread
  evenly from edge to edge. A side shorter than S is zero-padded (centred) up to S first.
  Each window's probabilities are weighted by a Gaussian (sigma = S / 8, peak 1) before they
  are summed, so window borders count less than window centres.

All coordinates here are pixels of the preprocessed slice (after in-plane resampling).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F

Window = tuple[int, int]
"""(row, column) of a window's top-left pixel in the padded slice."""

GAUSSIAN_SIGMA_SCALE = 1 / 8
"""Sigma of the window weighting, as a fraction of the window side (nnU-Net's value)."""


def window_starts(size: int, window: int, step: float) -> list[int]:
    """Start pixels of the windows covering ``size`` pixels with ``window``-pixel windows.

    Args:
        size: pixels along the axis (at least ``window``).
        window: window side, pixels.
        step: target step as a fraction of ``window`` (0.5: half overlap); the actual step
            is at most this, so that the last window ends exactly at the edge.

    Returns:
        Sorted start pixels, the first 0 and the last ``size - window``.
    """
    if size < window:
        raise ValueError(f"an axis of {size} pixels is shorter than the {window}-pixel window")
    count = math.ceil((size - window) / (step * window)) + 1
    if count == 1:
        return [0]
    actual_step = (size - window) / (count - 1)
    return [round(actual_step * index) for index in range(count)]


def gaussian_weights(size: int, sigma_scale: float = GAUSSIAN_SIGMA_SCALE) -> torch.Tensor:
    """(size, size) float32 Gaussian centred on the window, peak 1, sigma ``size * sigma_scale``.

    Values are clamped below to the smallest positive one, so no pixel weighs zero.
    """
    sigma = size * sigma_scale
    coordinates = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    profile = torch.exp(-(coordinates**2) / (2 * sigma**2))
    weights = torch.outer(profile, profile)
    weights = weights / weights.max()
    smallest = weights[weights > 0].min()
    return weights.clamp_min(smallest).float()


@dataclass(frozen=True)
class PlaneTiling:
    """The network inputs one (R, C) slice is cut into.

    Attributes:
        slice_shape: (R, C) of the preprocessed slices, pixels.
        input_size: S, the network's square input side, pixels.
        windows: top-left corners of the S x S windows in the padded slice; empty when the
            whole slice is resized to S x S.
    """

    slice_shape: tuple[int, int]
    input_size: int
    windows: tuple[Window, ...]

    @classmethod
    def plan(
        cls, slice_shape: Sequence[int], input_size: int, large_slice_handling: str, step: float
    ) -> PlaneTiling:
        """Resize, unless ``large_slice_handling`` is ``sliding_window`` and a side exceeds S.

        Args:
            slice_shape: (R, C) pixels.
            input_size: S pixels.
            large_slice_handling: ``resize`` or ``sliding_window`` (the configuration's).
            step: window step as a fraction of S, in (0, 1].
        """
        shape = (int(slice_shape[0]), int(slice_shape[1]))
        if large_slice_handling != "sliding_window" or max(shape) <= input_size:
            return cls(shape, input_size, ())
        padded = [max(n, input_size) for n in shape]
        rows = window_starts(padded[0], input_size, step)
        columns = window_starts(padded[1], input_size, step)
        return cls(shape, input_size, tuple((r, c) for r in rows for c in columns))

    @property
    def resizes(self) -> bool:
        """Whether whole slices are resized to S x S (no windows)."""
        return not self.windows

    @property
    def tiles_per_slice(self) -> int:
        """Network inputs per slice: the number of windows, or 1 when resizing."""
        return max(1, len(self.windows))

    @property
    def padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zero padding, pixels, that brings each side to S."""
        pads = []
        for size in self.slice_shape:
            total = max(self.input_size - size, 0) if self.windows else 0
            pads.append((total // 2, total - total // 2))
        return tuple(pads)

    @property
    def padded_shape(self) -> tuple[int, int]:
        """(rows, columns) of a slice after padding, pixels."""
        return tuple(n + sum(pad) for n, pad in zip(self.slice_shape, self.padding, strict=True))

    @cached_property
    def gaussian(self) -> torch.Tensor:
        """(S, S) window weights (see :func:`gaussian_weights`)."""
        return gaussian_weights(self.input_size)

    def cut(self, slices: torch.Tensor, windows: Sequence[Window | None]) -> torch.Tensor:
        """Network inputs from slices: slice i resized, or its window ``windows[i]`` cut out.

        Args:
            slices: (N, K, R, C) float, any K channels (images, or one-hot labels).
            windows: N entries, each a window of :attr:`windows`, or ``None`` when resizing.

        Returns:
            (N, K, S, S) float.
        """
        size = self.input_size
        if self.resizes:
            return _resize(slices, (size, size))
        (top, bottom), (left, right) = self.padding
        padded = F.pad(slices, (left, right, top, bottom))
        return torch.stack(
            [padded[i, :, r : r + size, c : c + size] for i, (r, c) in enumerate(windows)]
        )

    def uncut(self, outputs: torch.Tensor) -> torch.Tensor:
        """Resize (N, K, S, S) outputs back to (N, K, R, C); windows are returned as they are."""
        return _resize(outputs, self.slice_shape) if self.resizes else outputs


class ProbabilityAccumulator:
    """Sums network probabilities over windows, flips and networks for a group of slices."""

    def __init__(
        self, tiling: PlaneTiling, num_slices: int, num_classes: int, device: torch.device
    ) -> None:
        """
        Args:
            tiling: how slices map to network inputs.
            num_slices: slices in the group.
            num_classes: probability channels C.
            device: where the sums are kept.
        """
        self.tiling = tiling
        shape = tiling.padded_shape
        self.sums = torch.zeros((num_slices, num_classes, *shape), device=device)
        self.weights = torch.zeros((num_slices, 1, *shape), device=device)
        self.gaussian = tiling.gaussian.to(device)

    def add(
        self,
        probabilities: torch.Tensor,
        positions: Sequence[int],
        windows: Sequence[Window | None],
    ) -> None:
        """Add (N, C, R, C) resized-back probabilities, or (N, C, S, S) window probabilities.

        Args:
            probabilities: one map per network input, see :meth:`PlaneTiling.uncut`.
            positions: N slice positions within the group.
            windows: N windows (``None`` when resizing).
        """
        if self.tiling.resizes:
            for index, position in enumerate(positions):
                self.sums[position] += probabilities[index]
                self.weights[position] += 1
            return
        size = self.tiling.input_size
        for index, (position, (r, c)) in enumerate(zip(positions, windows, strict=True)):
            self.sums[position, :, r : r + size, c : c + size] += (
                probabilities[index] * self.gaussian
            )
            self.weights[position, :, r : r + size, c : c + size] += self.gaussian

    def result(self) -> torch.Tensor:
        """(C, num_slices, R, C) weighted mean probabilities, padding removed."""
        (top, _), (left, _) = self.tiling.padding
        rows, columns = self.tiling.slice_shape
        mean = self.sums / self.weights
        return mean[:, :, top : top + rows, left : left + columns].transpose(0, 1)


def _resize(images: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of (N, K, H, W) to (N, K, *shape); no-op when already that shape."""
    if tuple(images.shape[-2:]) == tuple(shape):
        return images
    return F.interpolate(images, size=shape, mode="bilinear", align_corners=False)
