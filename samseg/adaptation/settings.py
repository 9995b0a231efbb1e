"""Settings of the P²SAM / PerSAM adaptor: modes, part-count ranges, negatives, prompt type.

Modes (one code path):

- ``p2sam``: every (positive parts, negative parts) pair of the ranges is a candidate; the one
  whose mask's target tokens are nearest the reference's foreground tokens (exact OT) wins,
  ties to the smaller counts (the paper's distribution-guided retrieval).
- ``fixed``: one candidate with the given counts (ranges of one value each), no retrieval.
- ``persam``: PerSAM: one positive part (the mean prototype), one negative at the minimum of
  its similarity map, no retrieval (the ranges and ``negatives`` are not used).

Negatives: ``background_parts`` (the paper's medical setting: one point at the maximum of each
background prototype's map; 0 parts allowed) or ``persam_argmin`` (natural images: one point
at the minimum of the mean positive map).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from samseg.adaptation.prototypes import KMeansSettings
from samseg.adaptation.vocabulary import (
    ADAPTATION_MODES,
    NEGATIVE_SOURCES,
    PROMPT_TYPES,
    AdaptationMode,
    NegativeSource,
    PromptType,
)


@dataclass(frozen=True)
class AdaptorSettings:
    """How the adaptor prompts a target.

    Attributes:
        mode: ``p2sam``, ``fixed`` or ``persam`` (module docstring).
        positive_parts: inclusive range (low, high) of positive part counts, low >= 1.
        negative_parts: inclusive range of negative part counts (``background_parts``;
            low >= 0); ``persam_argmin`` always gives one negative.
        negatives: ``background_parts`` or ``persam_argmin``.
        prompt_type: ``points`` (the paper) or ``box`` (samseg's extension for box-trained
            backbones: the box of the region more similar to the object's parts than to
            the background, see ``decoding``).
        kmeans: k-means settings of the part prototypes.
        include_padding_in_background: count padding tokens as background (official code).
    """

    mode: AdaptationMode = "p2sam"
    positive_parts: tuple[int, int] = (1, 5)
    negative_parts: tuple[int, int] = (1, 1)
    negatives: NegativeSource = "background_parts"
    prompt_type: PromptType = "points"
    kmeans: KMeansSettings = field(default_factory=KMeansSettings)
    include_padding_in_background: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (
            ("mode", ADAPTATION_MODES),
            ("negatives", NEGATIVE_SOURCES),
            ("prompt_type", PROMPT_TYPES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}: expected one of {allowed}, found {value!r}")
        (p_low, p_high), (n_low, n_high) = self.positive_parts, self.negative_parts
        if not 1 <= p_low <= p_high or not 0 <= n_low <= n_high:
            raise ValueError(
                "part counts: expected 1 <= positive low <= high and 0 <= negative low <= high, "
                f"found positive {self.positive_parts}, negative {self.negative_parts}"
            )
        if self.mode == "fixed" and (p_low != p_high or n_low != n_high):
            raise ValueError(
                "mode fixed: expected one positive and one negative count (ranges of one "
                f"value), found positive {self.positive_parts}, negative {self.negative_parts}"
            )

    def candidates(self) -> list[tuple[int, int]]:
        """(positive parts, negative parts) in retrieval order (ties go to the earlier)."""
        if self.mode == "persam":
            return [(1, 1)]
        negatives = range(self.negative_parts[0], self.negative_parts[1] + 1)
        if self.negatives == "persam_argmin":
            negatives = range(1, 2)
        positives = range(self.positive_parts[0], self.positive_parts[1] + 1)
        return [(p, n) for p in positives for n in negatives]

    @property
    def negative_source(self) -> NegativeSource:
        """The negatives actually used (``persam`` mode: ``persam_argmin``)."""
        return "persam_argmin" if self.mode == "persam" else self.negatives
