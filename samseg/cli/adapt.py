"""``samseg_adapt``: segment new cases by example with P²SAM (or PerSAM), no training."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from samseg.cli.adaptor_arguments import (
    adaptor_settings,
    add_adaptor_arguments,
    check_adaptor_arguments,
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
    add_adaptor_arguments(parser)
    add_device_argument(parser)
    add_num_threads_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_promptable_source(parser, args)
    _check_references(parser, args)

    def body() -> None:
        from samseg.adaptation.run import adapt_to_folder
        from samseg.inference import find_cases
        from samseg.threads import set_torch_threads

        set_torch_threads(args.num_threads)
        adaptor, volume = adaptor_settings(args)
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
            save_overlays=args.save_overlays,
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
    check_adaptor_arguments(parser, args)
