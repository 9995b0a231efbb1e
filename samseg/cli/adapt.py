"""``samseg_adapt``: segment new cases by example with P²SAM (or PerSAM), no training."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from samseg.adaptation.vocabulary import (
    ADAPTATION_MODES,
    NEGATIVE_SOURCES,
    POOLINGS,
    PRESENCE_TESTS,
    PROMPT_TYPES,
)
from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.compute_arguments import add_device_argument, add_num_threads_argument
from samseg.cli.errors import run_command
from samseg.cli.promptable_source import (
    add_promptable_source_arguments,
    check_promptable_source,
    load_promptable_source,
)
from samseg.devices import resolve_device


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_adapt",
        description="Segment INPUT by example: one annotated reference (a prior scan of the "
        "same patient and its label, several pieces of one patient's scans, or a photo and "
        "its mask) becomes part-aware prompts for a promptable SAM (P²SAM; PerSAM as a mode), "
        "without training. Predictions keep the inputs' exact geometry.",
    )
    parser.add_argument(
        "-ref_image",
        nargs="+",
        required=True,
        metavar="IMAGE",
        help="reference image file(s) or DICOM folder(s), one per reference piece",
    )
    parser.add_argument(
        "-ref_label",
        nargs="+",
        required=True,
        metavar="LABEL",
        help="the reference pieces' label files, in the same order",
    )
    parser.add_argument(
        "-i",
        nargs="+",
        required=True,
        metavar="INPUT",
        help="targets: a folder of CASE_XXXX<file_ending> images, image files, DICOM folders",
    )
    parser.add_argument("-o", required=True, metavar="OUTPUT", help="output folder")
    add_promptable_source_arguments(parser)
    parser.add_argument(
        "--mode",
        choices=ADAPTATION_MODES,
        default="p2sam",
        help="p2sam: retrieval over the part counts; fixed: the given counts; persam: one part, "
        "one negative (default: %(default)s)",
    )
    parser.add_argument(
        "--positive_parts",
        nargs=2,
        type=int,
        default=(1, 5),
        metavar=("LOW", "HIGH"),
        help="range of positive part counts (default: 1 5)",
    )
    parser.add_argument(
        "--negative_parts",
        nargs=2,
        type=int,
        default=(1, 1),
        metavar=("LOW", "HIGH"),
        help="range of negative part counts with background_parts negatives (default: 1 1)",
    )
    parser.add_argument(
        "--negatives",
        choices=NEGATIVE_SOURCES,
        default="background_parts",
        help="background_parts (medical, the paper) or persam_argmin (natural images) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--prompt_type",
        choices=PROMPT_TYPES,
        default="points",
        help="points (the paper) or box (samseg's extension for box-trained backbones such as "
        "LiteMedSAM) (default: %(default)s)",
    )
    parser.add_argument(
        "--pooling",
        choices=POOLINGS,
        default="global",
        help="reference tokens of every slice holding the class (global), the slice nearest the "
        "target and its neighbours (local), or that slice (matched) (default: %(default)s)",
    )
    parser.add_argument(
        "--presence",
        choices=PRESENCE_TESTS,
        default="calibrated",
        help="prompt a slice only when it passes the presence test calibrated on the reference "
        "(calibrated), or every slice within the class's slab (always) (default: %(default)s)",
    )
    parser.add_argument(
        "--save_prompts",
        action="store_true",
        help="write OUTPUT/prompts/CASE.json: per slice and class the candidates, points, "
        "part counts and OT distances",
    )
    add_device_argument(parser)
    add_num_threads_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_promptable_source(parser, args)
    _check_references(parser, args)

    def body() -> None:
        from samseg.adaptation import AdaptorSettings
        from samseg.adaptation.run import adapt_to_folder
        from samseg.adaptation.volume import VolumeSettings
        from samseg.inference import find_cases
        from samseg.threads import set_torch_threads

        set_torch_threads(args.num_threads)
        adaptor = AdaptorSettings(
            mode=args.mode,
            positive_parts=tuple(args.positive_parts),
            negative_parts=tuple(args.negative_parts),
            negatives=args.negatives,
            prompt_type=args.prompt_type,
        )
        volume = VolumeSettings(pooling=args.pooling, presence=args.presence)
        model = load_promptable_source(args)
        pairs = zip(args.ref_image, args.ref_label, strict=True)
        references = [([image], label) for image, label in pairs]
        run = adapt_to_folder(
            model,
            references,
            find_cases(args.i, model.description),
            args.o,
            adaptor=adaptor,
            volume=volume,
            save_prompts=args.save_prompts,
            device=resolve_device(args.device),
        )
        print(f"{len(run.predicted)} case(s) segmented into {args.o}")

    run_command(body)


def _check_references(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """As many reference labels as images, and part ranges the adaptor accepts."""
    if len(args.ref_image) != len(args.ref_label):
        parser.error(
            f"-ref_image and -ref_label: expected one label per image, found "
            f"{len(args.ref_image)} images and {len(args.ref_label)} labels"
        )
    (p_low, p_high), (n_low, n_high) = args.positive_parts, args.negative_parts
    if not 1 <= p_low <= p_high or not 0 <= n_low <= n_high:
        parser.error(
            "--positive_parts/--negative_parts: expected 1 <= LOW <= HIGH (positive) and "
            f"0 <= LOW <= HIGH (negative), found {args.positive_parts} and {args.negative_parts}"
        )
    if args.mode == "fixed" and (p_low != p_high or n_low != n_high):
        parser.error("--mode fixed: expected LOW == HIGH for both part ranges")
