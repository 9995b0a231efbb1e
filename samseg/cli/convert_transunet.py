"""``samseg_convert_transunet``: TransUNet/SAMed npz/h5 Synapse -> NIfTI raw dataset."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from samseg.cli.errors import run_command
from samseg.conversion import convert_transunet


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samseg_convert_transunet",
        description="Convert TransUNet-preprocessed Synapse (train_npz/caseXXXX_sliceYYY.npz, "
        "test_vol_h5/caseXXXX.npy.h5) to NIfTI volumes in nnU-Net v2 raw layout. Images are "
        "mapped back to HU (x * 400 - 125) unless --keep-normalized.",
    )
    parser.add_argument("input", type=Path, help="folder holding train_npz/ and/or test_vol_h5/")
    parser.add_argument(
        "-o",
        "--output-root",
        type=Path,
        default=None,
        metavar="RAW_ROOT",
        help="folder to create DatasetXXX_Name in (default: $SAMSEG_raw, else $nnUNet_raw)",
    )
    parser.add_argument(
        "--dataset-id", type=int, default=2, help="dataset id (default: %(default)s)"
    )
    parser.add_argument("--name", default="Synapse", help="dataset name (default: %(default)s)")
    parser.add_argument(
        "--spacing",
        type=float,
        nargs=3,
        default=(1.0, 1.0, 1.0),
        metavar=("Z", "Y", "X"),
        help="voxel spacing in mm to write, which the format does not store (default: 1 1 1)",
    )
    parser.add_argument(
        "--keep-normalized",
        action="store_true",
        help="write the [0, 1] intensities as they are (channel 'normalized', z-score "
        "normalization) instead of mapping them back to HU (channel 'CT')",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="reconvert cases that exist already"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def body() -> None:
        logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
        with logging_redirect_tqdm():
            report = convert_transunet(
                args.input,
                args.output_root,
                dataset_id=args.dataset_id,
                name=args.name,
                spacing=args.spacing,
                keep_normalized=args.keep_normalized,
                overwrite=args.overwrite,
            )
        print(report.summary())

    run_command(body)


if __name__ == "__main__":
    main()
