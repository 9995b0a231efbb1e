"""``samseg_convert_btcv``: BTCV RawData -> Synapse 8-organ dataset in nnU-Net v2 raw layout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.conversion_arguments import add_output_arguments, run_conversion


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_convert_btcv",
        description="Convert BTCV RawData (img0001.nii.gz, label0001.nii.gz, found anywhere "
        "under INPUT) to the Synapse 8-organ dataset with the standard 18/12 split. Reruns "
        "keep cases already converted.",
    )
    parser.add_argument("input", type=Path, help="folder holding BTCV RawData")
    add_output_arguments(parser, dataset_id=2, name="Synapse")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from samseg.conversion import convert_btcv

    run_conversion(
        lambda: convert_btcv(
            args.input,
            args.output_root,
            dataset_id=args.dataset_id,
            name=args.name,
            overwrite=args.overwrite,
        )
    )


if __name__ == "__main__":
    main()
