"""Whether a target slice holds a class: a score per (slice, class) and a threshold chosen on
the reference scan, whose labels are known (``shared/methods/p2sam.md`` §5.4; samseg's
extension, the paper always outputs a mask).

Scores (``VolumeSettings.presence_score``), on the slice's valid (non-padding) tokens:

- ``area`` (default): how many tokens are more similar (cosine) to the class's mean
  foreground prototype than to its mean background prototype, the background of the
  reference slices holding the class. It compares the class with its own surroundings, so a
  change that moves every similarity alike (contrast, noise) moves both sides.
- ``peak``: the largest cosine similarity between the mean foreground prototype and a token.

Calibration: every encoded reference slice is scored with prototypes of the *other* slices
(leave one slice out), and the threshold maximises Youden's J between slices with and without
the class (ties: the lowest threshold, the one that keeps most slices). Target labels are
never used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from samseg.adaptation.vocabulary import PresenceScore

SCORE_CHUNK = 16
"""Reference slices scored at once while calibrating (bounds the float32 copies)."""


def presence_scores(
    foreground: torch.Tensor,
    background: torch.Tensor,
    embeddings: torch.Tensor,
    valid: torch.Tensor,
    score: PresenceScore,
) -> torch.Tensor:
    """(B, P) presence scores of P classes on B slices.

    Args:
        foreground, background: (P, 256) or (B, P, 256) unit mean prototypes per class (one
            set for all slices, or one per slice).
        embeddings: (B, 256, G, G) slice embeddings.
        valid: (G, G) or (B, G, G) bool tokens holding image.
        score: ``area`` (tokens, float) or ``peak`` (cosine similarity).
    """
    unit = F.normalize(embeddings.flatten(2).float(), dim=1)
    batch = len(unit)
    valid = valid.reshape(-1, unit.shape[-1]).expand(batch, -1).to(unit.device)
    foreground = foreground.to(unit).expand(batch, -1, -1)
    similarity = torch.einsum("bpc,bcg->bpg", foreground, unit)
    if score == "peak":
        return similarity.masked_fill(~valid[:, None], float("-inf")).amax(dim=2)
    background = background.to(unit).expand(batch, -1, -1)
    closer = similarity > torch.einsum("bpc,bcg->bpg", background, unit)
    return (closer & valid[:, None]).sum(dim=2).float()


def youden_threshold(present: Sequence[float], absent: Sequence[float]) -> float:
    """The score threshold (present iff score >= threshold) that maximises Youden's J =
    sensitivity + specificity - 1; ``-inf`` (always present) without scores of both kinds.
    Ties: the lowest."""
    if not absent or not present:
        return float("-inf")
    scores = np.asarray(sorted(set(present) | set(absent)), dtype=np.float64)
    candidates = np.concatenate([[scores[0]], (scores[1:] + scores[:-1]) / 2, [scores[-1] + 1]])
    present_scores, absent_scores = np.asarray(present), np.asarray(absent)
    best, best_j = float(candidates[0]), -np.inf
    for threshold in candidates:
        j = (present_scores >= threshold).mean() + (absent_scores < threshold).mean() - 1
        if j > best_j + 1e-12:
            best, best_j = float(threshold), j
    return best


def calibrated_thresholds(
    embeddings: torch.Tensor,
    token_masks: Mapping[int, torch.Tensor],
    valid: torch.Tensor,
    class_slices: Mapping[int, Sequence[int]],
    score: PresenceScore,
) -> dict[int, float]:
    """Per class, the Youden threshold of its leave-one-slice-out scores on the reference.

    Args:
        embeddings: (n, 256, G, G) encoded reference slices.
        token_masks: class value -> (n, G, G) bool tokens of the class.
        valid: (n, G, G) bool tokens holding image.
        class_slices: class value -> indices of the slices holding it.
        score: the presence score.
    """
    tokens = embeddings.float().flatten(2)  # (n, 256, G*G)
    valid = valid.flatten(1)  # (n, G*G)
    thresholds = {}
    for value, slices in class_slices.items():
        inside = (token_masks[value].flatten(1) & valid).float()
        outside = (~token_masks[value].flatten(1) & valid).float()
        outside[[i for i in range(len(tokens)) if i not in set(slices)]] = 0
        sums = [torch.einsum("ng,ncg->nc", m, tokens) for m in (inside, outside)]
        rests = [s.sum(dim=0, keepdim=True) - s for s in sums]
        kept = torch.nonzero((inside.sum(dim=0).sum() - inside.sum(dim=1)) > 0).flatten()
        foreground, background = (F.normalize(r[kept], dim=1)[:, None] for r in rests)
        scores = torch.cat(
            [
                presence_scores(
                    foreground[chunk],
                    background[chunk],
                    embeddings[kept[chunk]],
                    valid[kept[chunk]],
                    score,
                )[:, 0]
                for chunk in torch.arange(len(kept)).split(SCORE_CHUNK)
            ]
        ).tolist()
        held = set(slices)
        present = [s for i, s in zip(kept.tolist(), scores, strict=True) if i in held]
        absent = [s for i, s in zip(kept.tolist(), scores, strict=True) if i not in held]
        thresholds[value] = youden_threshold(present, absent)
    return thresholds
