"""PG-SAM's per-organ guide heatmaps, written as PNG overlays while the predictor runs.

:class:`HeatmapRecorder` wraps a PGSAMSegmenter as a slice network (``samseg.inference.
network``): it returns the same logits and, through the predictor's ``begin_case`` /
``begin_batch`` hooks, knows the case and slice of every input, so each unmirrored input of
the chosen slices gets one PNG per class (``samseg.models.pgsam.heatmaps``) in the network's
own input frame::

    recorder = HeatmapRecorder(load_trained_network(checkpoint), Path("heatmaps"), {40, 41})
    SlicePredictor([recorder], plans, "2d_256", description, use_mirroring=False)
        .predict_case([image])

Files are ``FOLDER/{case}_slice{index:03d}[_r{row}_c{column}]_{class}.png`` (the window's
corner when slices are tiled).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import torch
from torch import nn

from samseg.inference.case_context import CaseContext
from samseg.inference.network import SliceBatch
from samseg.models.pgsam.heatmaps import write_heatmap_overlays
from samseg.models.pgsam.network import PGSAMSegmenter


class HeatmapRecorder(nn.Module):
    """A PGSAMSegmenter that writes its classwise heatmaps for chosen slices."""

    def __init__(
        self, network: PGSAMSegmenter, folder: Path, slices: Collection[int] | None = None
    ) -> None:
        """
        Args:
            network: a PG-SAM network with the ``classwise`` guide.
            folder: where the PNG files go.
            slices: preprocessed slice indices to draw; ``None``: every slice.

        Raises:
            ValueError: a ``released`` network (its guide has no per-class heatmaps).
        """
        super().__init__()
        if network.options.guide != "classwise":
            raise ValueError(
                f"heatmaps need the classwise guide, found guide {network.options.guide!r}"
            )
        self.network = network
        self.folder = Path(folder)
        self.slices = None if slices is None else set(slices)
        self.case = "case"
        self.batch: SliceBatch | None = None
        self.written: list[Path] = []

    @property
    def input_size(self) -> int:
        return self.network.input_size

    @property
    def num_classes(self) -> int:
        return self.network.num_classes

    def begin_case(self, context: CaseContext) -> None:
        """Remember the case identifier (file prefix)."""
        self.case = context.identifier

    def begin_batch(self, batch: SliceBatch) -> None:
        """Remember where the next call's images come from."""
        self.batch = batch

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images -> (B, C, S, S) logits; heatmaps written on the way."""
        network = self.network
        encoded = network.encode(images, network.options.level_blocks)
        output = network.decode_guided(encoded.image_embeddings, encoded.block_features)
        batch = self.batch
        if batch is not None and not batch.flip_dims:
            for index, (slice_index, window) in enumerate(
                zip(batch.slice_indices, batch.windows, strict=True)
            ):
                if self.slices is not None and slice_index not in self.slices:
                    continue
                prefix = f"{self.case}_slice{slice_index:03d}"
                if window is not None:
                    prefix += f"_r{window[0]}_c{window[1]}"
                self.written += write_heatmap_overlays(
                    self.folder,
                    prefix,
                    images[index],
                    output.guide.heatmaps[index],
                    network.options.class_names,
                )
        return output.logits
