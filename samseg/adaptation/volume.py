"""P²SAM with a prior scan: the reference volume's tokens per class, pooled, and a presence
test calibrated on the reference itself (``shared/methods/p2sam.md`` §5; samseg's extension,
the paper segments single slices known to hold the object).

:class:`ReferenceVolume` encodes the reference's slices once (each whole slice one network
input, resized to fill it or fitted and zero-padded, as the predictor feeds it; padding tokens
are no one's tokens) and keeps, per class:

- **pooled tokens** (:class:`VolumeSettings` ``pooling``): ``global`` (default): foreground
  tokens of every reference slice holding the class, background tokens of those slices; the
  OT retrieval compares with a fixed-seed subsample of at most ``retrieval_tokens`` foreground
  tokens. ``local``: the reference slice nearest the target slice in world position and
  ``local_radius`` slices either side; ``matched``: that slice alone (the paper's one
  reference slice per target slice, matched by position instead of the official code's
  oracle pairing).
- **the slab**: target slices farther than a margin (max(``slab_margin_mm``,
  ``slab_margin_fraction`` x the class's extent)) from the class's reference extent, in world
  position along the reference's slice normal, are not prompted.
- **the presence test** (``samseg.adaptation.presence``): a slice is prompted only if its
  presence score for the class reaches a threshold chosen on the reference scan, whose labels
  are known (leave one slice out, Youden's J). Target labels are never used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from samseg.adaptation.presence import calibrated_thresholds
from samseg.adaptation.prototypes import KMeansSettings, ReferenceFeatures
from samseg.adaptation.token_grid import mask_to_token_grid
from samseg.adaptation.vocabulary import (
    POOLINGS,
    PRESENCE_SCORES,
    PRESENCE_TESTS,
    Pooling,
    Presence,
    PresenceScore,
)
from samseg.errors import SamsegInputError
from samseg.inference.tiling import PlaneTiling, Window
from samseg.models.segmenter import SamSegmenter
from samseg.plans import SliceConfiguration
from samseg.preprocessing.slice_positions import slice_normal, stored_slice_positions
from samseg.slices import sam_input_slices


@dataclass(frozen=True)
class VolumeSettings:
    """How a prior scan serves as the reference (module docstring).

    Attributes:
        pooling: ``global``, ``local`` or ``matched``.
        local_radius: slices either side of the matched one (``local``).
        retrieval_tokens: most reference foreground tokens the OT retrieval compares with
            (a fixed-seed subsample; exact OT cost grows with the product of the two counts).
        slab_margin_mm, slab_margin_fraction: the slab margin, max(mm, fraction x extent).
        presence: ``calibrated`` (the presence test) or ``always`` (every slab slice).
        presence_score: ``area`` or ``peak`` (``samseg.adaptation.presence``).
        context_margin: encoded reference slices without the class on each side of its
            extent (the presence test's negatives).
        seed: seed of the retrieval subsample.
    """

    pooling: Pooling = "global"
    local_radius: int = 2
    retrieval_tokens: int = 2048
    slab_margin_mm: float = 10.0
    slab_margin_fraction: float = 0.5
    presence: Presence = "calibrated"
    presence_score: PresenceScore = "area"
    context_margin: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling: expected one of {POOLINGS}, found {self.pooling!r}")
        if self.presence not in PRESENCE_TESTS:
            raise ValueError(f"presence: expected one of {PRESENCE_TESTS}, found {self.presence!r}")
        if self.presence_score not in PRESENCE_SCORES:
            raise ValueError(
                f"presence_score: expected one of {PRESENCE_SCORES}, found {self.presence_score!r}"
            )


@dataclass(frozen=True)
class ClassReference:
    """One class of the reference volume.

    Attributes:
        value: the label value.
        slices: encoded reference slice positions (indices into ReferenceVolume's arrays)
            holding the class.
        extent_mm: (low, high) world positions of the class's slices.
        threshold: the presence threshold on the presence score (``-inf``: always present).
        prototype: (256,) unit mean foreground prototype of every slice holding the class.
        background_prototype: (256,) unit mean of those slices' other (valid) tokens.
    """

    value: int
    slices: tuple[int, ...]
    extent_mm: tuple[float, float]
    threshold: float
    prototype: torch.Tensor
    background_prototype: torch.Tensor


class ReferenceVolume:
    """The encoded reference scan(s) and the per-class references (module docstring).

    The reference is one annotated case, or several pieces of one patient's annotated scans
    (e.g. the two parts of a scan around a held-out slab): their slices are pooled, placed by
    world position along the first piece's slice normal.

    Args:
        network: the promptable network (eval mode).
        pieces: annotated preprocessed cases (``data`` (c, slices, R, C) 0-255, ``label``
            (1, slices, R, C), ``properties``), preprocessed with the plans of the targets.
        configuration: the plans configuration (input size, context slices; each whole
            slice must be one network input, see :func:`single_view`).
        class_values: label values to adapt.
        settings: pooling, slab and presence settings.
        kmeans: k-means settings of the prototypes (default: ``KMeansSettings()``).
        batch_size: slices per encoder call.
        progress: called with the number of slices encoded after each batch.

    Raises:
        SamsegInputError: a piece without label, slices the configuration cuts into
            windows, or a class absent from every piece.
    """

    def __init__(
        self,
        network: SamSegmenter,
        pieces: Sequence,
        configuration: SliceConfiguration,
        class_values: Sequence[int],
        settings: VolumeSettings = VolumeSettings(),
        *,
        kmeans: KMeansSettings | None = None,
        batch_size: int = 4,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.kmeans = kmeans or KMeansSettings()
        self.normal = slice_normal(pieces[0].properties)
        found = {v: 0 for v in class_values}
        embeddings, positions, piece_of, valid = [], [], [], []
        masks: dict[int, list[torch.Tensor]] = {v: [] for v in class_values}
        for number, piece in enumerate(pieces):
            if piece.label is None:
                raise SamsegInputError(f"reference piece {number}: expected a label, found none")
            label = np.asarray(piece.label[0])
            view = single_view(label.shape[-2:], configuration, f"reference piece {number}")
            wanted = self._slices_to_encode(label, class_values, found)
            if not wanted:
                continue
            encoded = encode_slices(
                network, piece.data, wanted, configuration, view, batch_size, progress
            )
            views = view.tiling.cut_labels(
                torch.from_numpy(label[wanted].astype(np.int64)), [view.window] * len(wanted)
            )
            grid = encoded.shape[-1]
            valid.append(mask_to_token_grid(view.valid, grid)[None].expand(len(wanted), -1, -1))
            for value in class_values:
                grids = [mask_to_token_grid(view == value, grid) for view in views]
                masks[value].append(torch.stack(grids))
            embeddings.append(encoded)
            positions.append(stored_slice_positions(piece.properties, self.normal)[wanted])
            piece_of += [number] * len(wanted)
        missing = [v for v, count in found.items() if count == 0]
        if missing:
            raise SamsegInputError(
                f"reference label: expected every class to adapt, found no voxel of {missing}"
            )
        self.embeddings = torch.cat(embeddings)
        self.positions = np.concatenate(positions)
        self.pieces = np.asarray(piece_of)
        self.token_masks = {v: torch.cat(m) for v, m in masks.items()}
        self.valid_tokens = torch.cat(valid)
        self.classes = self._class_references(class_values)
        self._features: dict[tuple[int, tuple[int, ...]], ReferenceFeatures] = {}

    def _slices_to_encode(
        self, label: np.ndarray, class_values: Sequence[int], found: dict[int, int]
    ) -> list[int]:
        """Slices of one piece holding a class, with ``context_margin`` slices either side
        (counting each class's slices into ``found``)."""
        margin, wanted = self.settings.context_margin, set()
        for value in class_values:
            slices = np.flatnonzero((label == value).any(axis=(1, 2)))
            found[value] += len(slices)
            if len(slices):
                low, high = max(slices[0] - margin, 0), min(slices[-1] + margin + 1, len(label))
                wanted.update(range(int(low), int(high)))
        return sorted(wanted)

    def _tokens(self, value: int, slices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Foreground and background (N, 256) tokens of ``value`` on the encoded ``slices``."""
        chosen = list(slices)
        tokens = self.embeddings[chosen].float().flatten(2).transpose(1, 2).reshape(-1, 256)
        mask = self.token_masks[value][chosen].flatten()
        valid = self.valid_tokens[chosen].flatten()
        return tokens[mask & valid], tokens[~mask & valid]

    def _class_references(self, class_values: Sequence[int]) -> dict[int, ClassReference]:
        """Every class's slices, extent, mean prototype and presence threshold."""
        class_slices = {}
        for value in class_values:
            masks = self.token_masks[value].flatten(1)
            slices = tuple(int(i) for i in np.flatnonzero(masks.any(dim=1).numpy()))
            if not slices:
                raise SamsegInputError(
                    f"reference label: class {value} covers no token of the encoder's grid on "
                    "any slice (too small for it)"
                )
            class_slices[value] = slices
        thresholds = dict.fromkeys(class_values, float("-inf"))
        if self.settings.presence == "calibrated":
            thresholds = calibrated_thresholds(
                self.embeddings,
                self.token_masks,
                self.valid_tokens,
                class_slices,
                self.settings.presence_score,
            )
        references = {}
        for value, slices in class_slices.items():
            foreground, background = self._tokens(value, slices)
            extent = self.positions[list(slices)]
            references[value] = ClassReference(
                value,
                slices,
                (float(extent.min()), float(extent.max())),
                thresholds[value],
                F.normalize(foreground.mean(dim=0), dim=0),
                F.normalize(background.sum(dim=0), dim=0),
            )
        return references

    def in_slab(self, value: int, position: float) -> bool:
        """Whether a target slice at world ``position`` (mm, along :attr:`normal`) lies in
        the class's slab."""
        low, high = self.classes[value].extent_mm
        settings = self.settings
        margin = max(settings.slab_margin_mm, settings.slab_margin_fraction * (high - low))
        return low - margin <= position <= high + margin

    def features(self, value: int, position: float) -> ReferenceFeatures:
        """The class's reference features for a target slice at world ``position`` (cached)."""
        reference = self.classes[value]
        if self.settings.pooling == "global":
            slices = reference.slices
        else:
            radius = self.settings.local_radius if self.settings.pooling == "local" else 0
            nearest = min(reference.slices, key=lambda i: abs(self.positions[i] - position))
            slices = tuple(
                i
                for i in reference.slices
                if abs(i - nearest) <= radius and self.pieces[i] == self.pieces[nearest]
            )
        key = (value, slices)
        if key not in self._features:
            foreground, background = self._tokens(value, slices)
            retrieval = foreground
            if len(foreground) > self.settings.retrieval_tokens:
                generator = torch.Generator().manual_seed(self.settings.seed)
                order = torch.randperm(len(foreground), generator=generator)
                retrieval = foreground[order[: self.settings.retrieval_tokens]]
            self._features[key] = ReferenceFeatures(
                foreground, background, kmeans=self.kmeans, retrieval_tokens=retrieval
            )
        return self._features[key]


@dataclass(frozen=True)
class SingleView:
    """How slices of one shape become one network input each.

    Attributes:
        tiling: the slices' tiling.
        window: its one window (the slice fits, zero-padded), or ``None`` (resized to fill).
        valid: (S, S) bool input pixels holding the slice (not padding).
    """

    tiling: PlaneTiling
    window: Window | None
    valid: torch.Tensor


def single_view(shape: Sequence[int], configuration: SliceConfiguration, what: str) -> SingleView:
    """The one network input of (R, C) slices: resized to fill, or fitted and zero-padded.

    Raises:
        SamsegInputError: the configuration cuts such slices into several windows (P²SAM
            prompts whole slices).
    """
    tiling = PlaneTiling.for_configuration(tuple(shape), configuration)
    size = tiling.input_size
    valid = torch.zeros(size, size, dtype=torch.bool)
    if tiling.resizes:
        valid[:] = True
        return SingleView(tiling, None, valid)
    if len(tiling.windows) != 1:
        raise SamsegInputError(
            f"{what}: P²SAM prompts whole slices, found slices of {tuple(shape)} cut into "
            f"{len(tiling.windows)} windows by the configuration (use a configuration whose "
            "input holds the whole slice, e.g. the LiteMedSAM plans)"
        )
    (top, _), (left, _) = tiling.padding
    rows, columns = tiling.framed_shape
    window = tiling.windows[0]
    first_row, first_column = top - window[0], left - window[1]
    valid[first_row : first_row + rows, first_column : first_column + columns] = True
    return SingleView(tiling, window, valid)


@torch.no_grad()
def encode_slices(
    network: SamSegmenter,
    data,
    slice_indices: Sequence[int],
    configuration: SliceConfiguration,
    view: SingleView,
    batch_size: int,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """(n, 256, G, G) float16 embeddings of whole stored slices, as the predictor feeds them."""
    device = next(network.parameters()).device
    embeddings = []
    for start in range(0, len(slice_indices), batch_size):
        chosen = list(slice_indices[start : start + batch_size])
        images = torch.from_numpy(sam_input_slices(data, chosen, configuration.context_slices))
        views = view.tiling.cut(images.to(device), [view.window] * len(chosen))
        embeddings.append(network.encode(views).image_embeddings.half().cpu())
        if progress is not None:
            progress(len(chosen))
    return torch.cat(embeddings)
