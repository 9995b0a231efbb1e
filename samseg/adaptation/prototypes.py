"""Reference features of P²SAM: foreground and background tokens and their part prototypes.

A reference image's embedding (256, G, G) (the encoder's neck output) is split by the
reference mask mapped to the token grid (``token_grid``): foreground tokens FG (N_r, 256) and
background tokens BG, padding tokens excluded (the official code counts padding as background,
defect 7 of the spec; ``include_padding_in_background`` reproduces it). Part prototypes of n
parts: n = 1 the mean token; n > 1 k-means++ on the raw tokens, each prototype the mean of its
cluster; every prototype is L2-normalised afterwards. Prototypes are cached per (set, n).

k-means runs with every setting explicit (:class:`KMeansSettings`), so scikit-learn's changing
defaults (``n_init`` 10 -> "auto" in 1.4, ``algorithm`` elkan -> lloyd in 1.1) never change
results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from sklearn.cluster import KMeans

from samseg.errors import SamsegInputError

TokenSet = Literal["foreground", "background"]


@dataclass(frozen=True)
class KMeansSettings:
    """scikit-learn KMeans settings, all explicit (defaults: the official code's, sklearn 1.0.2).

    Attributes:
        n_init: restarts; the best inertia wins.
        max_iter: iterations per restart.
        tol: relative centre-shift tolerance.
        seed: ``random_state``.
        algorithm: ``lloyd`` or ``elkan`` (exact; both give the same clusters up to rounding).
    """

    n_init: int = 10
    max_iter: int = 300
    tol: float = 1e-4
    seed: int = 0
    algorithm: Literal["lloyd", "elkan"] = "lloyd"

    def fit_predict(self, tokens: np.ndarray, clusters: int) -> np.ndarray:
        """(N,) cluster index of each of the (N, D) tokens."""
        return KMeans(
            n_clusters=clusters,
            init="k-means++",
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.seed,
            algorithm=self.algorithm,
        ).fit_predict(tokens)


class ReferenceFeatures:
    """The tokens of an annotated reference and their (cached) part prototypes.

    Build it from one image with :meth:`from_embedding`, or from tokens pooled over several
    reference slices (``samseg.adaptation.volume``).

    Args:
        foreground: (N_r, 256) raw foreground tokens, N_r >= 1.
        background: (N_b, 256) raw background tokens (may be empty).
        kmeans: k-means settings.
        retrieval_tokens: the reference distribution of the retrieval, (N, 256); default
            ``foreground``.

    Raises:
        SamsegInputError: no foreground token: P²SAM has nothing to learn from.
    """

    def __init__(
        self,
        foreground: torch.Tensor,
        background: torch.Tensor,
        *,
        kmeans: KMeansSettings = KMeansSettings(),
        retrieval_tokens: torch.Tensor | None = None,
    ) -> None:
        if len(foreground) == 0:
            raise SamsegInputError(
                "reference mask: expected an object covering at least one token of the "
                "encoder's grid, found none (empty, or smaller than a token)"
            )
        self.tokens = {"foreground": foreground.float(), "background": background.float()}
        self.kmeans = kmeans
        self.retrieval_tokens = (
            self.tokens["foreground"] if retrieval_tokens is None else retrieval_tokens.float()
        )
        self._prototypes: dict[tuple[TokenSet, int], torch.Tensor] = {}

    @classmethod
    def from_embedding(
        cls,
        embedding: torch.Tensor,
        foreground: torch.Tensor,
        valid: torch.Tensor,
        *,
        kmeans: KMeansSettings = KMeansSettings(),
        include_padding_in_background: bool = False,
    ) -> ReferenceFeatures:
        """The features of one reference image.

        Args:
            embedding: (256, G, G) image embedding of the reference.
            foreground: (G, G) bool token mask of the object (``mask_to_token_grid``).
            valid: (G, G) bool tokens that hold image (not padding).
            kmeans: k-means settings.
            include_padding_in_background: count padding tokens as background (the
                official code's behaviour).
        """
        tokens = embedding.flatten(1).T.float().cpu()
        valid = valid.flatten().cpu()
        chosen = foreground.flatten().cpu() & valid
        background = ~chosen if include_padding_in_background else ~chosen & valid
        return cls(tokens[chosen], tokens[background], kmeans=kmeans)

    @property
    def foreground_tokens(self) -> torch.Tensor:
        """(N_r, 256) raw foreground tokens."""
        return self.tokens["foreground"]

    def count(self, which: TokenSet) -> int:
        """Number of tokens in the set."""
        return len(self.tokens[which])

    def prototypes(self, which: TokenSet, parts: int) -> torch.Tensor:
        """(parts, 256) L2-normalised part prototypes of a token set (cached).

        Raises:
            ValueError: ``parts`` < 1 or more than the set's tokens.
        """
        key = (which, parts)
        if key not in self._prototypes:
            tokens = self.tokens[which]
            if not 1 <= parts <= len(tokens):
                raise ValueError(f"{parts} {which} parts from {len(tokens)} tokens")
            if parts == 1:
                means = tokens.mean(dim=0, keepdim=True)
            else:
                assignment = self.kmeans.fit_predict(tokens.numpy(), parts)
                index = torch.from_numpy(assignment)
                means = torch.stack([tokens[index == k].mean(dim=0) for k in range(parts)])
            self._prototypes[key] = torch.nn.functional.normalize(means, dim=1)
        return self._prototypes[key]
