"""The P²SAM / PerSAM adaptor's flags, declared once for ``samseg_adapt`` and ``samseg_predict``.

``--mode --positive_parts --negative_parts --negatives --prompt_type --pooling --presence
--presence_score --save_prompts --save_overlays``: their declaration, their check and the
settings they make (``samseg.adaptation.AdaptorSettings`` and ``VolumeSettings``, imported
only when built).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from samseg.adaptation.vocabulary import (
    ADAPTATION_MODES,
    NEGATIVE_SOURCES,
    POOLINGS,
    PRESENCE_SCORES,
    PRESENCE_TESTS,
    PROMPT_TYPES,
)

if TYPE_CHECKING:
    from samseg.adaptation import AdaptorSettings, VolumeSettings

ADAPTOR_DEFAULTS = {
    "mode": "p2sam",
    "positive_parts": (1, 5),
    "negative_parts": (1, 1),
    "negatives": "background_parts",
    "prompt_type": "points",
    "pooling": "global",
    "presence": "calibrated",
    "presence_score": "area",
    "save_prompts": False,
    "save_overlays": False,
}
"""Each adaptor flag's destination and default."""


def add_adaptor_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The adaptor's flags (module docstring), added to ``parser`` (or an argument group)."""
    parser.add_argument(
        "--mode",
        choices=ADAPTATION_MODES,
        default=ADAPTOR_DEFAULTS["mode"],
        help="p2sam: retrieval over the part counts; fixed: the given counts; persam: one part, "
        "one negative (default: %(default)s)",
    )
    parser.add_argument(
        "--positive_parts",
        nargs=2,
        type=int,
        default=ADAPTOR_DEFAULTS["positive_parts"],
        metavar=("LOW", "HIGH"),
        help="range of positive part counts (default: 1 5)",
    )
    parser.add_argument(
        "--negative_parts",
        nargs=2,
        type=int,
        default=ADAPTOR_DEFAULTS["negative_parts"],
        metavar=("LOW", "HIGH"),
        help="range of negative part counts with background_parts negatives (default: 1 1)",
    )
    parser.add_argument(
        "--negatives",
        choices=NEGATIVE_SOURCES,
        default=ADAPTOR_DEFAULTS["negatives"],
        help="background_parts (medical, the paper) or persam_argmin (natural images) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--prompt_type",
        choices=PROMPT_TYPES,
        default=ADAPTOR_DEFAULTS["prompt_type"],
        help="points (the paper) or box (samseg's extension for box-trained backbones such as "
        "LiteMedSAM) (default: %(default)s)",
    )
    parser.add_argument(
        "--pooling",
        choices=POOLINGS,
        default=ADAPTOR_DEFAULTS["pooling"],
        help="reference tokens of every slice holding the class (global), the slice nearest the "
        "target and its neighbours (local), or that slice (matched) (default: %(default)s)",
    )
    parser.add_argument(
        "--presence",
        choices=PRESENCE_TESTS,
        default=ADAPTOR_DEFAULTS["presence"],
        help="prompt a slice only when it passes the presence test calibrated on the reference "
        "(calibrated), or every slice within the class's slab (always) (default: %(default)s)",
    )
    parser.add_argument(
        "--presence_score",
        choices=PRESENCE_SCORES,
        default=ADAPTOR_DEFAULTS["presence_score"],
        help="the presence test's score: the tokens more similar to the class than to its "
        "surroundings (area) or the peak similarity to the class (peak) (default: %(default)s)",
    )
    parser.add_argument(
        "--save_prompts",
        action="store_true",
        help="write OUTPUT/prompts/CASE.json: per slice and class the candidates, points, "
        "part counts and OT distances",
    )
    parser.add_argument(
        "--save_overlays",
        action="store_true",
        help="draw every prompted slice and class into OUTPUT/prompts/overlays/"
        "CASE_sliceNNNN_classC.png: the chosen mask, the points and the box on the network input",
    )


def check_adaptor_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Part ranges the adaptor accepts (exit status 2 otherwise)."""
    (p_low, p_high), (n_low, n_high) = args.positive_parts, args.negative_parts
    if not 1 <= p_low <= p_high or not 0 <= n_low <= n_high:
        parser.error(
            "--positive_parts/--negative_parts: expected 1 <= LOW <= HIGH (positive) and "
            f"0 <= LOW <= HIGH (negative), found {args.positive_parts} and {args.negative_parts}"
        )
    if args.mode == "fixed" and (p_low != p_high or n_low != n_high):
        parser.error("--mode fixed: expected LOW == HIGH for both part ranges")


def changed_adaptor_flags(args: argparse.Namespace) -> list[str]:
    """The adaptor flags whose values differ from their defaults (``--mode``, ...)."""
    return [
        f"--{name}"
        for name, default in ADAPTOR_DEFAULTS.items()
        if _comparable(getattr(args, name)) != _comparable(default)
    ]


def adaptor_settings(args: argparse.Namespace) -> tuple[AdaptorSettings, VolumeSettings]:
    """The adaptor's and the volume settings the checked flags give."""
    from samseg.adaptation import AdaptorSettings, VolumeSettings

    adaptor = AdaptorSettings(
        mode=args.mode,
        positive_parts=tuple(args.positive_parts),
        negative_parts=tuple(args.negative_parts),
        negatives=args.negatives,
        prompt_type=args.prompt_type,
    )
    volume = VolumeSettings(
        pooling=args.pooling, presence=args.presence, presence_score=args.presence_score
    )
    return adaptor, volume


def _comparable(value: object) -> object:
    """Lists (parsed ``nargs=2`` values) as tuples, like the defaults."""
    return tuple(value) if isinstance(value, list) else value
