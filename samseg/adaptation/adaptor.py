"""P²SAM on one target image: part prototypes -> point (or box) prompts -> SAM -> retrieval.

:class:`PartAwareAdaptor` holds a promptable network and one reference
(:class:`~samseg.adaptation.prototypes.ReferenceFeatures`); :meth:`PartAwareAdaptor.segment`
takes a target embedding and returns the chosen candidate's low-resolution logits with every
candidate's record (counts, points, box, OT distance and POT's warning, predicted IoU). All
similarity maps of a target come from one matrix product; prototypes are cached by the
reference. Frames: points and boxes are (x, y) pixels of the S x S network input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from samseg.adaptation.decoding import decode_box_chain, decode_points_chain
from samseg.adaptation.prototypes import ReferenceFeatures, TokenSet
from samseg.adaptation.retrieval import Distance, covered_tokens, wasserstein_distance
from samseg.adaptation.settings import AdaptorSettings
from samseg.adaptation.similarity import extreme_points, similarity_maps
from samseg.models.segmenter import SamSegmenter
from samseg.prompting import tight_box


@dataclass(frozen=True)
class Candidate:
    """One prompted candidate of a target.

    Attributes:
        positives, negatives: part counts.
        points: (N, 2) (x, y) input pixels, positives first; empty for the box prompt type.
        labels: (N,) 1 positive, 0 negative.
        box: the starting box (x0, y0, x1, y1) (box prompt type), else ``None``.
        iou: SAM's predicted IoU of the candidate's mask.
        distance: the retrieval score, ``None`` when there is no retrieval.
    """

    positives: int
    negatives: int
    points: list[list[float]]
    labels: list[int]
    box: list[float] | None
    iou: float
    distance: Distance | None

    def to_json(self) -> dict:
        """JSON-able record (``--save-prompts``)."""
        distance = self.distance
        return {
            "positive_parts": self.positives,
            "negative_parts": self.negatives,
            "points": self.points,
            "labels": self.labels,
            "box": self.box,
            "predicted_iou": self.iou,
            "wasserstein": None if distance is None else distance.value,
            "covered_tokens": None if distance is None else distance.tokens,
            "ot_warning": None if distance is None else distance.warning,
        }


@dataclass(frozen=True)
class AdaptationResult:
    """The adaptor's answer for one target.

    Attributes:
        low_res_logits: (1, 1, 4G, 4G) logits of the chosen candidate.
        chosen: index of the chosen candidate in ``candidates``.
        candidates: every candidate tried, in retrieval order.
        peak_similarity: the largest cosine similarity of a positive prototype in the image
            (a presence score).
        candidate_logits: per candidate, its (1, 1, 4G, 4G) logits (a candidate's mask is the
            one the ``fixed`` mode with its counts gives).
    """

    low_res_logits: torch.Tensor
    chosen: int
    candidates: tuple[Candidate, ...]
    peak_similarity: float
    candidate_logits: tuple[torch.Tensor, ...]


def retrieved_candidate(candidates: Sequence[Candidate]) -> int:
    """Index of the candidate with the smallest OT distance; ties (and candidates without a
    distance) go to the earlier one, i.e. the smaller part counts."""
    best = 0
    for index, candidate in enumerate(candidates):
        distance, best_distance = candidate.distance, candidates[best].distance
        if (
            distance is not None
            and best_distance is not None
            and (distance.value < best_distance.value)
        ):
            best = index
    return best


class PartAwareAdaptor:
    """P²SAM / PerSAM for one reference (see ``samseg.adaptation.settings`` for the modes).

    Args:
        network: a promptable SamSegmenter (eval mode; nothing is trained).
        reference: the reference's tokens and prototypes.
        settings: mode, counts, negatives, prompt type.
    """

    def __init__(
        self, network: SamSegmenter, reference: ReferenceFeatures, settings: AdaptorSettings
    ) -> None:
        self.network = network
        self.reference = reference
        self.settings = settings
        background = reference.count("background")
        if settings.negative_source != "background_parts":
            background = 1
        counts = [
            (p, n)
            for p, n in settings.candidates()
            if p <= reference.count("foreground") and n <= background
        ]
        if settings.prompt_type == "box":
            counts = sorted({(p, 0) for p, _ in counts})
        self.candidate_counts = counts or [(1, 0)]
        """(positive, negative) counts the reference allows (a count above its tokens is left
        out; nothing left: one positive part, no negative). The box prompt type gives no
        negative points (its region compares with the background prototype), so its
        candidates differ in their positive count only."""

    def _prototype_stack(self) -> tuple[torch.Tensor, dict[tuple[TokenSet, int], slice]]:
        """Every prototype the candidates need, stacked, and where each set sits."""
        needed: list[tuple[TokenSet, int]] = [("foreground", p) for p, _ in self.candidate_counts]
        if self.settings.negative_source == "background_parts":
            needed += [("background", n) for _, n in self.candidate_counts if n > 0]
        if self.settings.prompt_type == "box" and self.reference.count("background"):
            needed.append(("background", 1))
        rows, places, start = [], {}, 0
        for key in dict.fromkeys(needed):
            prototypes = self.reference.prototypes(*key)
            rows.append(prototypes)
            places[key] = slice(start, start + len(prototypes))
            start += len(prototypes)
        return torch.cat(rows), places

    @torch.no_grad()
    def segment(self, target_embedding: torch.Tensor, valid: torch.Tensor) -> AdaptationResult:
        """Segment the reference's object in one target.

        Args:
            target_embedding: (256, G, G) target embedding (``network.encode``).
            valid: (S, S) bool pixels of the input holding image (not padding).
        """
        network = self.network
        stack, places = self._prototype_stack()
        maps = similarity_maps(stack, target_embedding, network.input_size)
        valid = valid.to(maps.device)
        embedding = target_embedding[None]
        candidates, logits_of = [], []
        for positives, negatives in self.candidate_counts:
            positive_maps = maps[places[("foreground", positives)]]
            points = extreme_points(positive_maps, valid, largest=True)
            negative_points = torch.zeros(0, 2)
            if self.settings.prompt_type == "points":
                negative_points = self._negatives(maps, places, positive_maps, negatives, valid)
            all_points = torch.cat([points, negative_points])
            labels = torch.tensor([1] * len(points) + [0] * len(negative_points))
            box = None
            if self.settings.prompt_type == "box":
                box = self._similarity_box(maps, places, positive_maps, points, valid)
                logits, iou = decode_box_chain(network, embedding, box, valid)
            else:
                logits, iou = decode_points_chain(network, embedding, all_points, labels, valid)
            distance = None
            if len(self.candidate_counts) > 1:
                tokens = covered_tokens(logits, target_embedding)
                distance = wasserstein_distance(self.reference.retrieval_tokens, tokens)
            logits_of.append(logits)
            candidates.append(
                Candidate(
                    positives=positives,
                    negatives=len(negative_points),
                    points=[] if box is not None else all_points.tolist(),
                    labels=[] if box is not None else labels.tolist(),
                    box=None if box is None else box[0].tolist(),
                    iou=float(iou[0]),
                    distance=distance,
                )
            )
        best = retrieved_candidate(candidates)
        peak = max(float(maps[places[("foreground", p)]].max()) for p, _ in self.candidate_counts)
        return AdaptationResult(logits_of[best], best, tuple(candidates), peak, tuple(logits_of))

    def _negatives(
        self,
        maps: torch.Tensor,
        places: dict,
        positive_maps: torch.Tensor,
        count: int,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        """(n, 2) negative points of a candidate."""
        if self.settings.negative_source == "persam_argmin":
            mean = positive_maps.mean(dim=0, keepdim=True)
            return extreme_points(mean, valid, largest=False)
        if count == 0:
            return torch.zeros(0, 2)
        return extreme_points(maps[places[("background", count)]], valid, largest=True)

    def _similarity_box(
        self,
        maps: torch.Tensor,
        places: dict,
        positive_maps: torch.Tensor,
        points: torch.Tensor,
        valid: torch.Tensor,
    ) -> torch.Tensor:
        """(1, 4) box of the connected regions, holding a positive point, where a positive
        part is more similar than the background prototype (box prompt type)."""
        region = valid.clone()
        if ("background", 1) in places:
            background = maps[places[("background", 1)]][0]
            region &= positive_maps.amax(dim=0) > background
        components, _ = ndimage.label(region.cpu().numpy())
        hits = {int(components[int(y), int(x)]) for x, y in points.tolist()} - {0}
        chosen = np.isin(components, sorted(hits)) if hits else region.cpu().numpy()
        box = tight_box(chosen)
        if box is None:
            box = np.concatenate([points.amin(dim=0).numpy(), points.amax(dim=0).numpy()])
        return torch.as_tensor(box, dtype=torch.float32)[None]
