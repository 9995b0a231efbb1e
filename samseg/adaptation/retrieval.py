"""P²SAM's distribution-guided retrieval: the exact optimal-transport distance between the
reference's foreground tokens and the tokens a candidate mask covers in the target.

As the official code: POT's ``emd2`` (network simplex, exact) with uniform weights and
``ot.dist``'s squared Euclidean cost on the raw 256-d neck tokens (so W2 squared, in float64),
``numItermax`` 1e7. POT stops at ``numItermax`` with only a warning and a sub-optimal value;
the warning is returned, never lost. An empty candidate mask scores infinity.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import ot
import torch
import torch.nn.functional as F

EMD_MAX_ITERATIONS = 10_000_000


@dataclass(frozen=True)
class Distance:
    """One candidate's retrieval score.

    Attributes:
        value: squared-Euclidean exact OT cost (``inf`` for an empty candidate).
        tokens: target tokens the candidate covers.
        warning: POT's convergence warning, or ``None``.
    """

    value: float
    tokens: int
    warning: str | None


def covered_tokens(low_res_logits: torch.Tensor, target_embedding: torch.Tensor) -> torch.Tensor:
    """(N_t, 256) raw target tokens under a candidate: its (4G, 4G) logits resized
    bilinearly to the (G, G) grid, > 0."""
    grid = target_embedding.shape[-1]
    logits = low_res_logits.reshape(1, 1, *low_res_logits.shape[-2:]).float()
    on_grid = F.interpolate(logits, size=(grid, grid), mode="bilinear", align_corners=False)
    chosen = (on_grid[0, 0] > 0).flatten()
    return target_embedding.flatten(1).T[chosen.to(target_embedding.device)]


def wasserstein_distance(reference: torch.Tensor, candidate: torch.Tensor) -> Distance:
    """Exact OT cost between two token sets with uniform weights (see the module docstring).

    Args:
        reference: (N_r, 256) reference foreground tokens.
        candidate: (N_t, 256) target tokens of a candidate mask.
    """
    if len(candidate) == 0:
        return Distance(math.inf, 0, None)
    source = reference.double().cpu().numpy()
    target = candidate.double().cpu().numpy()
    cost = ot.dist(source, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, log = ot.emd2(
            ot.unif(len(source)),
            ot.unif(len(target)),
            cost,
            numItermax=EMD_MAX_ITERATIONS,
            log=True,
        )
    return Distance(float(np.asarray(value)), len(target), log.get("warning"))
