"""``samseg_convert_btcv``: BTCV RawData -> Synapse 8-organ dataset in nnU-Net v2 raw layout."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from samseg.cli.errors import run_command
from samseg.conversion import convert_btcv


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samseg_convert_btcv",
        description="Convert BTCV RawData (img0001.nii.gz, label0001.nii.gz, found anywhere "
        "under INPUT) to the Synapse 8-organ dataset with the standard 18/12 split. Reruns "
        "keep cases already converted.",
    )
    parser.add_argument("input", type=Path, help="folder holding BTCV RawData")
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
        "--overwrite", action="store_true", help="reconvert cases that exist already"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def body() -> None:
        logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
        with logging_redirect_tqdm():
            report = convert_btcv(
                args.input,
                args.output_root,
                dataset_id=args.dataset_id,
                name=args.name,
                overwrite=args.overwrite,
            )
        print(report.summary())

    run_command(body)


if __name__ == "__main__":
    main()
