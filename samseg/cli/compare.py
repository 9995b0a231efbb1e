"""``samseg_compare -d DATASET -c CONFIGURATION -tr TRAINER ... -o REPORT_DIR``: train, adapt,
predict and evaluate several methods the same way and write one report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser, fold_argument
from samseg.cli.compute_arguments import add_device_argument
from samseg.cli.errors import run_command

ADAPTORS = ("p2sam", "persam")
"""The names ``--adaptors`` takes (``samseg.comparison.request.ADAPTOR_MODES``, which checks
them; listed here so that ``--help`` imports nothing heavy)."""


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_compare",
        description="Compare methods on one dataset: train every trainer on the same folds "
        "with the same budget (reusing finished runs, continuing interrupted ones), run every "
        "adaptor from the same annotated reference case, predict the test cases (imagesTs with "
        "labelsTs) or else each fold's validation cases, evaluate all alike, and write "
        "REPORT_DIR/report.md and report.json (95%% bootstrap intervals, paired Wilcoxon tests "
        "against a baseline, costs, charts, overlays). A rerun continues where it stopped.",
    )
    parser.add_argument("-d", required=True, metavar="DATASET", help="dataset id or name")
    parser.add_argument("-c", required=True, metavar="CONFIGURATION", help="e.g. 2d_128")
    parser.add_argument(
        "-tr", nargs="+", default=[], metavar="TRAINER", help="trainer class names to compare"
    )
    parser.add_argument(
        "--adaptors",
        nargs="+",
        default=[],
        metavar="ADAPTOR",
        help=f"training-free adaptors to compare, of {', '.join(ADAPTORS)} (PerSAM is a mode "
        "of samseg's P²SAM adaptor)",
    )
    parser.add_argument("-o", required=True, metavar="REPORT_DIR", help="report folder")
    parser.add_argument(
        "-p", default="samsegPlans", metavar="PLANS", help="plans name (default: %(default)s)"
    )
    parser.add_argument(
        "-f",
        nargs="+",
        type=fold_argument,
        default=[0],
        metavar="FOLD",
        help="folds to train, 0-4 or 'all' (default: 0)",
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument(
        "--iterations", type=int, metavar="N", help="training steps per trainer and fold"
    )
    budget.add_argument(
        "--minutes", type=float, metavar="M", help="training minutes per trainer and fold"
    )
    parser.add_argument(
        "--baseline", metavar="METHOD", help="method of the paired tests (default: the first)"
    )
    parser.add_argument(
        "--reference",
        metavar="CASE",
        help="the adaptors' annotated training case (default: each fold's first training case)",
    )
    parser.add_argument(
        "--adaptor_prompt_type",
        choices=("points", "box"),
        default="points",
        help="the adaptors' prompts: points (the papers) or box (for box-trained LiteMedSAM) "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--sam_checkpoint",
        metavar="PATH|none",
        help="SAM weights the trainers start from and the adaptors prompt; default: the "
        "installed official weights of the configuration's model type",
    )
    add_device_argument(parser)
    parser.add_argument(
        "--disable_tta", action="store_true", help="predict without mirroring for every trainer"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=2000,
        metavar="N",
        help="bootstrap resamples of the cases (default: %(default)s)",
    )
    parser.add_argument(
        "--overlay_cases",
        type=int,
        default=2,
        metavar="K",
        help="overlay pictures of the K cases the methods disagree most on (default: 2)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def body() -> None:
        from samseg.comparison import ComparisonRequest, TrainingBudget, compare

        request = ComparisonRequest(
            dataset=args.d,
            configuration=args.c,
            trainers=tuple(args.tr),
            adaptors=tuple(args.adaptors),
            output_folder=Path(args.o),
            plans_name=args.p,
            folds=tuple(args.f),
            budget=TrainingBudget(iterations=args.iterations, minutes=args.minutes),
            baseline=args.baseline,
            reference_case=args.reference,
            adaptor_prompt_type=args.adaptor_prompt_type,
            sam_checkpoint=args.sam_checkpoint,
            device=args.device,
            disable_tta=args.disable_tta,
            bootstrap_samples=args.bootstrap,
            overlay_cases=args.overlay_cases,
            seed=args.seed,
        )
        print(f"report: {compare(request)}")

    run_command(body)
