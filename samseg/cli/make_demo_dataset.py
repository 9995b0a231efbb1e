"""``samseg_make_demo_dataset``: write the synthetic demo dataset (``Dataset001_Demo``)."""

from __future__ import annotations

from collections.abc import Sequence

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.conversion_arguments import add_output_arguments, run_conversion


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_make_demo_dataset",
        description="Write small synthetic abdominal CT-like volumes (liver, spleen, kidneys, "
        "aorta) as an nnU-Net v2 raw dataset. The same seed gives the same data.",
    )
    add_output_arguments(parser, dataset_id=1, name="Demo")
    parser.add_argument(
        "--num_train", type=int, default=10, help="training cases (default: %(default)s)"
    )
    parser.add_argument("--num_test", type=int, default=4, help="test cases (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from samseg.conversion import make_demo_dataset_report

    run_conversion(
        lambda: make_demo_dataset_report(
            args.output_root,
            dataset_id=args.dataset_id,
            name=args.name,
            num_train=args.num_train,
            num_test=args.num_test,
            seed=args.seed,
            overwrite=args.overwrite,
            progress=True,
        )
    )


if __name__ == "__main__":
    main()
