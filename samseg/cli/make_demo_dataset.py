"""``samseg_make_demo_dataset``: write the synthetic demo dataset (``Dataset001_Demo``)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from tqdm.contrib.logging import logging_redirect_tqdm

from samseg.cli.errors import run_command
from samseg.conversion import make_demo_dataset_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samseg_make_demo_dataset",
        description="Write small synthetic abdominal CT-like volumes (liver, spleen, kidneys, "
        "aorta) as an nnU-Net v2 raw dataset. The same seed gives the same data.",
    )
    parser.add_argument(
        "-o",
        "--output-root",
        type=Path,
        default=None,
        metavar="RAW_ROOT",
        help="folder to create DatasetXXX_Name in (default: $SAMSEG_raw, else $nnUNet_raw)",
    )
    parser.add_argument(
        "--dataset-id", type=int, default=1, help="dataset id (default: %(default)s)"
    )
    parser.add_argument("--name", default="Demo", help="dataset name (default: %(default)s)")
    parser.add_argument(
        "--num-train", type=int, default=10, help="training cases (default: %(default)s)"
    )
    parser.add_argument("--num-test", type=int, default=4, help="test cases (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--overwrite", action="store_true", help="rewrite existing cases and dataset.json"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def body() -> None:
        logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
        with logging_redirect_tqdm():
            report = make_demo_dataset_report(
                args.output_root,
                dataset_id=args.dataset_id,
                name=args.name,
                num_train=args.num_train,
                num_test=args.num_test,
                seed=args.seed,
                overwrite=args.overwrite,
                progress=True,
            )
        print(report.summary())

    run_command(body)


if __name__ == "__main__":
    main()
