"""What the dataset-writing commands share: output arguments and report printing."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from samseg.cli.errors import run_command

if TYPE_CHECKING:
    from samseg.conversion import ConversionReport


def add_output_root_argument(parser: argparse.ArgumentParser) -> None:
    """``-o RAW_ROOT`` (``--output_root``): where the new dataset folder goes."""
    parser.add_argument(
        "-o",
        "--output_root",
        type=Path,
        default=None,
        metavar="RAW_ROOT",
        help="folder to create DatasetXXX_Name in (default: $SAMSEG_raw, else $nnUNet_raw)",
    )


def add_output_arguments(parser: argparse.ArgumentParser, *, dataset_id: int, name: str) -> None:
    """``-o RAW_ROOT``, ``--dataset_id``, ``--name`` and ``--overwrite``."""
    add_output_root_argument(parser)
    parser.add_argument(
        "--dataset_id", type=int, default=dataset_id, help="dataset id (default: %(default)s)"
    )
    parser.add_argument("--name", default=name, help="dataset name (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="rewrite cases that exist already")


def run_conversion(convert: Callable[[], ConversionReport]) -> None:
    """Run ``convert`` with warnings shown above the progress bar, then print its report."""

    def body() -> None:
        from tqdm.contrib.logging import logging_redirect_tqdm

        logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
        with logging_redirect_tqdm():
            report = convert()
        print(report.summary())

    run_command(body)
