"""``samseg_convert_image_folder``: an images/ + masks/ folder of photos -> PNG raw dataset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.conversion_arguments import add_output_root_argument, run_conversion


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_convert_image_folder",
        description="Convert photos (PNG, JPEG, BMP) in IMAGES and their masks in MASKS, matched "
        "by file name (a common mask suffix such as ISIC's '_segmentation' is detected), into "
        "DatasetXXX_Name with CASE_0000.png RGB images, binary 0/1 PNG labels and dataset.json "
        "(channels R, G, B). An existing dataset folder is never overwritten.",
    )
    parser.add_argument("images", type=Path, help="folder of photos")
    parser.add_argument("masks", type=Path, help="folder of masks, one per photo")
    parser.add_argument("-d", "--dataset_id", type=int, required=True, help="dataset id (0-999)")
    parser.add_argument("-n", "--name", required=True, help="dataset name, like KvasirSEG")
    add_output_root_argument(parser)
    parser.add_argument(
        "--label_name",
        default="foreground",
        help="dataset.json name of label 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--mask_threshold",
        type=int,
        default=128,
        metavar="T",
        help="mask pixels >= T are the object; masks holding only 0 and 1 are kept as they are "
        "(default: %(default)s, for JPEG masks)",
    )
    parser.add_argument(
        "--mask_suffix",
        default=None,
        help="what a mask's file stem adds to its image's (default: detected)",
    )
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--test_fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of the cases drawn into imagesTs/labelsTs (default: %(default)s)",
    )
    split.add_argument(
        "--test_list",
        type=Path,
        default=None,
        metavar="FILE",
        help="file naming the test cases, one image name (stem) per line",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the --test_fraction draw (default: 0)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from samseg.conversion.image_folder import convert_image_folder

    run_conversion(
        lambda: convert_image_folder(
            args.images,
            args.masks,
            args.output_root,
            dataset_id=args.dataset_id,
            name=args.name,
            label_name=args.label_name,
            mask_threshold=args.mask_threshold,
            mask_suffix=args.mask_suffix,
            test_fraction=args.test_fraction,
            test_list=args.test_list,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    main()
