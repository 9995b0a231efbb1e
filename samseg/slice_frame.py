"""Where a preprocessed slice lies in a configuration's S x S network inputs (no torch).

A preprocessed slice is (R, C) pixels at the plans' target spacing; a network takes S x S.
:class:`SliceFrame` is the one description of the way between them, used by the predictor
(``samseg.inference.tiling`` adds the torch operations), the training batches
(``samseg.training.data.slice_batches``) and the network-input views of a stored slice
(``samseg.training.data.views``). Per configuration (``SliceConfiguration.slice_scaling``):

- **fixed_scale**: the slice is resampled by the configuration's ``zoom`` into the network
  frame, (round(R zoom), round(C zoom)) pixels, so a network pixel has the same size in mm in
  every case. A framed side shorter than S is zero-padded (centred, the odd pixel after), and
  S x S windows cover the padded slice (one window when it fits).
- **resize_to_fill** (plans written before ``slice_scaling`` existed): a slice is resized to
  fill S x S (no windows), unless ``large_slice_handling`` is ``sliding_window`` and a side
  exceeds S: then windows cover it at full resolution (zoom 1), short sides padded as above.

Windows follow nnU-Net: per axis ``ceil((size - S) / (step * S)) + 1`` windows spread evenly
from edge to edge. Coordinates are pixels of the padded framed slice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from samseg.plans import SliceConfiguration

Window = tuple[int, int]
"""(row, column) of a window's top-left pixel in the padded framed slice."""


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


def framed_side(size: int, zoom: float) -> int:
    """Pixels of a ``size``-pixel side after resampling by ``zoom`` (at least 1)."""
    return max(1, round(size * zoom))


@dataclass(frozen=True)
class SliceFrame:
    """How one (R, C) slice becomes network inputs.

    Attributes:
        slice_shape: (R, C) of the preprocessed slice, pixels.
        input_size: S, the network's square input side, pixels.
        windows: top-left corners of the S x S windows in the padded framed slice; empty
            when the whole slice is resized to fill S x S (``resize_to_fill``).
        framed_shape: (R', C') of the slice resampled into the network frame, pixels
            ((S, S) when resizing to fill; ``slice_shape`` at zoom 1).
    """

    slice_shape: tuple[int, int]
    input_size: int
    windows: tuple[Window, ...]
    framed_shape: tuple[int, int]

    @classmethod
    def plan(
        cls,
        slice_shape: Sequence[int],
        input_size: int,
        large_slice_handling: str,
        step: float,
        *,
        slice_scaling: str = "resize_to_fill",
        zoom: float = 1.0,
    ) -> SliceFrame:
        """The frame of one slice shape (see the module docstring).

        Args:
            slice_shape: (R, C) pixels.
            input_size: S pixels.
            large_slice_handling: ``resize`` or ``sliding_window`` (``resize_to_fill`` only).
            step: window step as a fraction of S, in (0, 1].
            slice_scaling: ``fixed_scale`` or ``resize_to_fill``.
            zoom: network pixels per slice pixel (``fixed_scale`` only).
        """
        shape = (int(slice_shape[0]), int(slice_shape[1]))
        if slice_scaling == "fixed_scale":
            framed = (framed_side(shape[0], zoom), framed_side(shape[1], zoom))
        elif large_slice_handling != "sliding_window" or max(shape) <= input_size:
            return cls(shape, input_size, (), (input_size, input_size))
        else:
            framed = shape
        rows = window_starts(max(framed[0], input_size), input_size, step)
        columns = window_starts(max(framed[1], input_size), input_size, step)
        return cls(shape, input_size, tuple((r, c) for r in rows for c in columns), framed)

    @classmethod
    def for_configuration(
        cls,
        slice_shape: Sequence[int],
        configuration: SliceConfiguration,
        step: float | None = None,
        scale: float = 1.0,
    ) -> SliceFrame:
        """The frame of a slice shape in ``configuration``.

        Args:
            slice_shape: (R, C) pixels.
            configuration: the plans configuration (input size, scaling, zoom, step).
            step: window step overriding the configuration's ``sliding_window_step``.
            scale: extra zoom factor on top of the configuration's (``fixed_scale`` only; 1:
                the configuration's own frame), e.g. for scaled copies of cached views.
        """
        return cls.plan(
            slice_shape,
            configuration.input_size,
            configuration.large_slice_handling,
            configuration.sliding_window_step if step is None else step,
            slice_scaling=configuration.slice_scaling,
            zoom=configuration.zoom * scale,
        )

    @property
    def resizes(self) -> bool:
        """Whether the whole slice is resized to fill S x S (no windows)."""
        return not self.windows

    @property
    def resamples(self) -> bool:
        """Whether the slice is resampled (resized to fill, or zoomed into the frame)."""
        return self.framed_shape != self.slice_shape

    @property
    def tiles_per_slice(self) -> int:
        """Network inputs per slice: the number of windows, or 1 when resizing."""
        return max(1, len(self.windows))

    @property
    def padding(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """((top, bottom), (left, right)) zero padding, pixels, that brings each framed side
        to at least S (none when resizing)."""
        pads = []
        for size in self.framed_shape:
            total = max(self.input_size - size, 0) if self.windows else 0
            pads.append((total // 2, total - total // 2))
        return tuple(pads)

    @property
    def padded_shape(self) -> tuple[int, int]:
        """(rows, columns) of the framed slice after padding, pixels."""
        return tuple(
            n + sum(pad) for n, pad in zip(self.framed_shape, self.padding, strict=True)
        )
