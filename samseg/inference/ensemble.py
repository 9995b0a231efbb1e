"""Probabilities of a group of slices from an ensemble of slice networks.

For a group of B slices: SAM inputs with context neighbours
(:func:`~samseg.slices.sam_input_slices`), cut into network inputs by the
:class:`~samseg.inference.tiling.PlaneTiling` and sent through every network in batches of
``batch_size`` inputs, each batch also flipped along every combination of the mirroring axes
(rows, columns, both; only those training flipped).
Logits are flipped back, resized back (resize tiling), turned into probabilities (softmax, or
sigmoid per region) and averaged with the tiling's weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from samseg.inference.case_context import BatchHook, CaseContext, CaseHook
from samseg.inference.network import SliceBatch, SliceNetwork, unwrapped
from samseg.inference.tiling import PlaneTiling, ProbabilityAccumulator
from samseg.slices import sam_input_slices

MIRROR_FLIPS: tuple[tuple[int, ...], ...] = ((), (3,), (2,), (2, 3))
"""Test-time flips of a (B, 3, S, S) batch: none, columns, rows, both."""


def mirror_flips(mirror_axes: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """The flips of :data:`MIRROR_FLIPS` along in-plane ``mirror_axes`` (0: rows, 1: columns)
    only; ``()``: just the unflipped batch."""
    dims = {axis + 2 for axis in mirror_axes}
    return tuple(flip for flip in MIRROR_FLIPS if set(flip) <= dims)


class SliceEnsemble:
    """Networks plus how they are run: mirroring, batch size, activation, device, hooks."""

    def __init__(
        self,
        networks: Sequence[SliceNetwork],
        *,
        num_classes: int,
        regions: bool,
        mirror_axes: Sequence[int],
        batch_size: int,
        context_slices: int,
        device: torch.device,
    ) -> None:
        """
        Args:
            networks: prepared slice networks (see ``samseg.inference.precision``).
            num_classes: C, the logits channels every network must return.
            regions: sigmoid per channel (region-based labels) instead of softmax.
            mirror_axes: in-plane axes (0: rows, 1: columns) to average flips along: (0, 1)
                the 4 flips, one axis 2, ``()`` none.
            batch_size: network inputs per call.
            context_slices: neighbour distance of the SAM input channels.
            device: where inputs and probability sums live.
        """
        self.networks = list(networks)
        self.num_classes = num_classes
        self.regions = regions
        self.flips = mirror_flips(mirror_axes)
        self.batch_size = batch_size
        self.context_slices = context_slices
        self.device = device

    def begin_case(self, context: CaseContext) -> None:
        """Call the ``begin_case`` hook of every network that has one."""
        for network in map(unwrapped, self.networks):
            if isinstance(network, CaseHook):
                network.begin_case(context)

    def probabilities(self, data: Any, centers: list[int], tiling: PlaneTiling) -> torch.Tensor:
        """(C, len(centers), R, C) mean probabilities of slices ``centers`` of ``data``.

        Args:
            data: (c, slices, R, C) preprocessed volume, 0-255 (numpy or blosc2).
            centers: slice indices.
            tiling: how the (R, C) slices become network inputs.
        """
        context = self.context_slices
        images = torch.from_numpy(sam_input_slices(data, centers, context)).to(self.device)
        windows = tiling.windows or (None,)
        tiles = [(position, window) for position in range(len(centers)) for window in windows]
        accumulator = ProbabilityAccumulator(tiling, len(centers), self.num_classes, self.device)
        for first in range(0, len(tiles), self.batch_size):
            chunk = tiles[first : first + self.batch_size]
            positions = [position for position, _ in chunk]
            chunk_windows = tuple(window for _, window in chunk)
            inputs = tiling.cut(images[positions], chunk_windows)
            for flip in self.flips:
                batch = SliceBatch(
                    tuple(centers[p] for p in positions), chunk_windows, flip, tiling
                )
                flipped = inputs.flip(flip) if flip else inputs
                for network in self.networks:
                    inner = unwrapped(network)
                    if isinstance(inner, BatchHook):
                        inner.begin_batch(batch)
                    logits = self._logits(network, flipped)
                    logits = logits.flip(flip) if flip else logits
                    probabilities = self._activation(tiling.uncut(logits))
                    accumulator.add(probabilities, positions, chunk_windows)
        return accumulator.result()

    def _logits(self, network: SliceNetwork, images: torch.Tensor) -> torch.Tensor:
        """Call ``network`` and check that it returned (N, C, S, S) logits."""
        logits = network(images)
        expected = (len(images), self.num_classes, *images.shape[-2:])
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != expected:
            found = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits)
            raise ValueError(
                f"{type(network).__name__}: expected (B, C, S, S) logits {expected}, found {found}"
            )
        return logits.float()

    def _activation(self, logits: torch.Tensor) -> torch.Tensor:
        """Softmax over classes, or sigmoid per region for region-based labels."""
        return torch.sigmoid(logits) if self.regions else torch.softmax(logits, dim=1)
