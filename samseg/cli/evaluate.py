"""``samseg_evaluate``: score predicted label files against references, write summary.json."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.errors import run_command


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_evaluate",
        description="Dice, IoU, HD95, normalized surface Dice, TP/FP/FN and volumes per case "
        "and class; writes nnU-Net v2's summary.json.",
    )
    parser.add_argument("-ref", required=True, metavar="REF", help="folder of reference labels")
    parser.add_argument(
        "-pred", required=True, metavar="PRED", help="folder of predictions (same file names)"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "-d",
        metavar="DATASET",
        help="raw dataset (id, DatasetXXX_Name or name): labels and file ending from its "
        "dataset.json",
    )
    source.add_argument(
        "-l",
        nargs="+",
        type=_label_value,
        metavar="LABEL",
        help="label values to score, e.g. -l 1 2 3",
    )
    parser.add_argument(
        "-il", type=int, default=None, metavar="LABEL", help="ignore label (with -l)"
    )
    parser.add_argument(
        "--file_ending",
        default=None,
        metavar="ENDING",
        help="label file ending with -l, e.g. .nii.gz (default: inferred from REF)",
    )
    parser.add_argument(
        "-o", default=None, metavar="FILE", help="summary file (default: PRED/summary.json)"
    )
    parser.add_argument(
        "-np", type=int, default=1, metavar="N", help="worker processes (default: %(default)s)"
    )
    parser.add_argument(
        "--nsd_tolerance",
        type=float,
        default=2.0,
        metavar="MM",
        help="tolerance of the normalized surface Dice in mm (default: %(default)s)",
    )
    parser.add_argument(
        "--synapse_protocol",
        action="store_true",
        help="Dice and HD95 as TransUNet/SAMed report them: HD95 in voxels, TransUNet's "
        "empty-mask rules (see documentation/evaluation.md)",
    )
    parser.add_argument(
        "--overlays", default=None, metavar="DIR", help="write PNG contour overlays to DIR"
    )
    parser.add_argument(
        "--images",
        default=None,
        metavar="FOLDER",
        help="CASE_0000 images under the overlays (default with -d: the dataset's imagesTs, "
        "then imagesTr)",
    )
    parser.add_argument(
        "--allow_missing",
        action="store_true",
        help="evaluate the predicted cases when some references have no prediction, and list "
        "the missing ones (default: a missing prediction is an error)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.il is not None and args.d is not None:
        parser.error("-il: the ignore label comes from dataset.json with -d")
    if args.file_ending is not None and args.d is not None:
        parser.error("--file_ending: the file ending comes from dataset.json with -d")

    def body() -> None:
        from samseg.evaluation import (
            dataset_evaluation_inputs,
            evaluate_folders,
            format_problems,
            format_table,
        )

        images = [args.images] if args.images else []
        if args.d is not None:
            inputs = dataset_evaluation_inputs(args.d)
            labels, ending, reader = inputs.labels, inputs.file_ending, inputs.reader_writer
            images = images or list(inputs.image_folders)
        else:
            labels, ending, reader = args.l, args.file_ending, None
        summary = evaluate_folders(
            args.ref,
            args.pred,
            labels,
            ending,
            output_file=args.o,
            num_processes=args.np,
            synapse_protocol=args.synapse_protocol,
            nsd_tolerance_mm=args.nsd_tolerance,
            ignore_label=args.il,
            reader_writer=reader,
            overlays_folder=args.overlays,
            image_folders=images,
            show_progress=True,
            allow_missing=args.allow_missing,
        )
        print(format_table(summary))
        problems = format_problems(summary)
        if problems:
            print(problems)
        print(f"summary written to {summary.output_file}")

    run_command(body)


def _label_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer label value, found {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative label value, found {value}")
    return value
