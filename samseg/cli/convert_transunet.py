"""``samseg_convert_transunet``: TransUNet/SAMed npz/h5 Synapse -> NIfTI raw dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.conversion_arguments import add_output_arguments, run_conversion


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_convert_transunet",
        description="Convert TransUNet-preprocessed Synapse (train_npz/caseXXXX_sliceYYY.npz, "
        "test_vol_h5/caseXXXX.npy.h5) to NIfTI volumes in nnU-Net v2 raw layout. Images are "
        "mapped back to HU (x * 400 - 125) unless --keep_normalized.",
    )
    parser.add_argument("input", type=Path, help="folder holding train_npz/ and/or test_vol_h5/")
    add_output_arguments(parser, dataset_id=2, name="Synapse")
    parser.add_argument(
        "--spacing",
        type=float,
        nargs=3,
        default=(1.0, 1.0, 1.0),
        metavar=("Z", "Y", "X"),
        help="voxel spacing in mm to write, which the format does not store (default: 1 1 1)",
    )
    parser.add_argument(
        "--keep_normalized",
        action="store_true",
        help="write the [0, 1] intensities as they are (channel 'normalized', z-score "
        "normalization) instead of mapping them back to HU (channel 'CT')",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from samseg.conversion import convert_transunet

    run_conversion(
        lambda: convert_transunet(
            args.input,
            args.output_root,
            dataset_id=args.dataset_id,
            name=args.name,
            spacing=args.spacing,
            keep_normalized=args.keep_normalized,
            overwrite=args.overwrite,
        )
    )


if __name__ == "__main__":
    main()
