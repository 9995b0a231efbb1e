"""The adaptor's setting names, in one light module (``samseg_adapt --help`` and
``samseg_predict --help`` read them)."""

from __future__ import annotations

from typing import Literal

Adaptor = Literal["p2sam"]
ADAPTORS: tuple[Adaptor, ...] = ("p2sam",)
"""Adaptors ``samseg_predict --adaptor`` runs with each case's prior scan."""

AdaptationMode = Literal["p2sam", "persam", "fixed"]
ADAPTATION_MODES: tuple[AdaptationMode, ...] = ("p2sam", "persam", "fixed")

NegativeSource = Literal["background_parts", "persam_argmin"]
NEGATIVE_SOURCES: tuple[NegativeSource, ...] = ("background_parts", "persam_argmin")

PromptType = Literal["points", "box"]
PROMPT_TYPES: tuple[PromptType, ...] = ("points", "box")

Pooling = Literal["global", "local", "matched"]
POOLINGS: tuple[Pooling, ...] = ("global", "local", "matched")

Presence = Literal["calibrated", "always"]
PRESENCE_TESTS: tuple[Presence, ...] = ("calibrated", "always")

PresenceScore = Literal["area", "peak"]
PRESENCE_SCORES: tuple[PresenceScore, ...] = ("area", "peak")
