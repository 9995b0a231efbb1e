"""How preprocessed slices become square network inputs, and how outputs go back (torch).

The geometry (framed shape, padding, windows) is :class:`~samseg.slice_frame.SliceFrame`'s,
the one description shared with training; :class:`PlaneTiling` adds the tensor operations:

- **resize to fill**: the whole slice is resized to S x S (bilinear, ``align_corners=False``,
  as :func:`torch.nn.functional.interpolate` does it) and the S x S logits are resized back to
  (R, C) the same way.
- **windows** (``fixed_scale``, and large slices of ``resize_to_fill`` sliding-window
  configurations): the slice is resampled into the network frame (bilinear, unless the zoom
  leaves its shape unchanged), zero-padded to at least S, and cut into S x S windows. Each
  window's probabilities are weighted by a Gaussian (sigma = S / 8, peak 1) before they are
  summed, so window borders count less than window centres; the weighted mean is un-padded
  and resampled back to (R, C) (bilinear on probabilities).

All coordinates here are pixels of the padded framed slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import torch
import torch.nn.functional as F

from samseg.slice_frame import SliceFrame, Window, window_starts

GAUSSIAN_SIGMA_SCALE = 1 / 8
"""Sigma of the window weighting, as a fraction of the window side (nnU-Net's value)."""

__all__ = [
    "GAUSSIAN_SIGMA_SCALE",
    "PlaneTiling",
    "ProbabilityAccumulator",
    "Window",
    "gaussian_weights",
    "window_starts",
]


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


class PlaneTiling(SliceFrame):
    """The network inputs one (R, C) slice is cut into: a :class:`SliceFrame` (build it with
    ``PlaneTiling.plan`` or ``PlaneTiling.for_configuration``) plus the tensor operations."""

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
        padded = F.pad(_resize(slices, self.framed_shape), (left, right, top, bottom))
        return torch.stack(
            [padded[i, :, r : r + size, c : c + size] for i, (r, c) in enumerate(windows)]
        )

    def cut_labels(self, labels: torch.Tensor, windows: Sequence[Window | None]) -> torch.Tensor:
        """Label maps cut like :meth:`cut` cuts images, resampled by nearest neighbour.

        Nearest neighbour with pixel centres aligned (``mode="nearest-exact"``), as training
        resamples labels (``samseg.training.data.resize.resize_labels``); padding is 0.

        Args:
            labels: (N, R, C) integer or bool label maps of the slices.
            windows: N entries, as for :meth:`cut`.

        Returns:
            (N, S, S) in the dtype of ``labels``.
        """
        size = self.input_size
        target = (size, size) if self.resizes else self.framed_shape
        resized = labels
        if tuple(labels.shape[-2:]) != tuple(target):
            resized = F.interpolate(labels[:, None].float(), size=target, mode="nearest-exact")
            resized = resized[:, 0].to(labels.dtype)
        if self.resizes:
            return resized
        (top, bottom), (left, right) = self.padding
        padded = F.pad(resized, (left, right, top, bottom))
        return torch.stack(
            [padded[i, r : r + size, c : c + size] for i, (r, c) in enumerate(windows)]
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
        shape = tiling.slice_shape if tiling.resizes else tiling.padded_shape
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
        """(C, num_slices, R, C) weighted mean probabilities, padding removed, resampled
        back from the network frame to the slice."""
        mean = self.sums / self.weights
        if not self.tiling.resizes:
            (top, _), (left, _) = self.tiling.padding
            rows, columns = self.tiling.framed_shape
            framed = mean[:, :, top : top + rows, left : left + columns]
            mean = _resize(framed, self.tiling.slice_shape)
        return mean.transpose(0, 1)


def _resize(images: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of (N, K, H, W) to (N, K, *shape); no-op when already that shape."""
    if tuple(images.shape[-2:]) == tuple(shape):
        return images
    return F.interpolate(images, size=shape, mode="bilinear", align_corners=False)
