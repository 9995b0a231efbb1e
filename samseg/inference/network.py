"""The network interface of the slice predictor: a batch of slices in, class logits out.

Any ``torch.nn.Module`` (or callable) works as a network if it

- takes (B, 3, S, S) float32 images in SAM's 0-255 pixel range,
- returns (B, C, S, S) class logits (background first; one channel per class name of the
  plans, region-based labels included),
- has the attributes ``input_size`` (S, pixels) and ``num_classes`` (C).

Two optional hooks let a network see more than one batch at a time, without changing the
predictor (P²SAM, for example, computes reference features per case); they are declared in
``samseg.inference.case_context``:

- ``begin_case(context)`` is called once per case, before its first batch, with a
  :class:`~samseg.inference.case_context.CaseContext` (case identifier, the preprocessed
  case, an optional annotated reference case).
- ``begin_batch(batch)`` is called right before every forward call with a
  :class:`SliceBatch` saying where each input image comes from: its slice index, its window
  (or ``None`` when the whole slice was resized) and the flips applied.

:class:`~samseg.models.SamSegmenter` returns a NamedTuple; :func:`as_slice_network` wraps it
in :class:`SegmenterNetwork`, which returns the ``logits`` field.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from samseg.inference.tiling import PlaneTiling, Window
from samseg.models import SamSegmenter
from samseg.models.precision import Precision


@runtime_checkable
class SliceNetwork(Protocol):
    """What the predictor calls: (B, 3, S, S) 0-255 images -> (B, C, S, S) logits."""

    input_size: int
    num_classes: int

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class SliceBatch:
    """Where the images of one network call come from (the ``begin_batch`` hook's argument).

    Image i is ``sam_input_slices(case.data, [slice_indices[i]], context)`` cut by
    ``tiling.cut`` with ``windows[i]``, then flipped along ``flip_dims``; the predictor flips
    the logits back before using them.

    Attributes:
        slice_indices: per image, its slice index along the preprocessed slice axis.
        windows: per image, its window's top-left corner in the padded slice (pixels), or
            ``None`` when the whole slice was resized to S x S.
        flip_dims: dimensions of the (B, 3, S, S) batch flipped (2: rows, 3: columns).
        tiling: how slices were cut into network inputs.
    """

    slice_indices: tuple[int, ...]
    windows: tuple[Window | None, ...]
    flip_dims: tuple[int, ...]
    tiling: PlaneTiling


class _WrappedNetwork(nn.Module):
    """A network wrapper that reports the wrapped network's input size and class count."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    @property
    def input_size(self) -> int:
        return self.network.input_size

    @property
    def num_classes(self) -> int:
        return self.network.num_classes


class SegmenterNetwork(_WrappedNetwork):
    """A :class:`SamSegmenter` as a slice network, computing in a chosen precision."""

    def __init__(self, network: SamSegmenter, precision: Precision = "fp32") -> None:
        """
        Args:
            network: the segmenter (not copied; its own ``precision`` is restored after
                every call, so a trainer's network is left as it was).
            precision: ``fp32`` or ``bf16`` autocast for the calls made through this wrapper.
        """
        super().__init__(network)
        self.precision = precision

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images -> (B, C, S, S) fp32 logits."""
        own = self.network.precision
        self.network.precision = self.precision
        try:
            return self.network(images).logits
        finally:
            self.network.precision = own


class AutocastNetwork(_WrappedNetwork):
    """Any slice network run under bf16 autocast, returning fp32 logits."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images -> (B, C, S, S) fp32 logits."""
        with torch.autocast(images.device.type, dtype=torch.bfloat16):
            return self.network(images).float()


def as_slice_network(network: Any, precision: Precision = "fp32") -> SliceNetwork:
    """``network`` as a :class:`SliceNetwork` computing in ``precision`` (fp32 or bf16).

    A SamSegmenter is wrapped in :class:`SegmenterNetwork`; another network is checked and
    returned as it is (fp32) or wrapped in :class:`AutocastNetwork` (bf16).

    Raises:
        TypeError: ``network`` is not callable or lacks ``input_size`` / ``num_classes``.
    """
    if isinstance(network, SamSegmenter):
        return SegmenterNetwork(network, precision)
    if not isinstance(network, SliceNetwork):
        raise TypeError(
            "a slice network must be callable and have input_size and num_classes attributes; "
            f"found {type(network).__name__}"
        )
    return AutocastNetwork(network) if precision == "bf16" else network


def unwrapped(network: Any) -> Any:
    """The network a precision wrapper holds (the one whose hooks count), else ``network``."""
    while isinstance(network, SegmenterNetwork | AutocastNetwork):
        network = network.network
    return network


@contextmanager
def evaluation_mode(networks: Sequence[Any]) -> Iterator[None]:
    """Put every module of ``networks`` in eval mode; restore each one's flag afterwards.

    A trainer that validates with its training network gets it back in the mode it was in.
    """
    modules = [m for n in networks if isinstance(n, nn.Module) for m in n.modules()]
    flags = [module.training for module in modules]
    try:
        for module in modules:
            module.training = False
        yield
    finally:
        for module, flag in zip(modules, flags, strict=True):
            module.training = flag
