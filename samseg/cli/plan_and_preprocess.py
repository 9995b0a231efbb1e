"""``samseg_plan_and_preprocess``: fingerprint, plan and preprocess raw datasets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.errors import run_command
from samseg.planning.registry import BUILT_IN_PLANNER_NAMES

if TYPE_CHECKING:
    from samseg.planning.workflow import PlanAndPreprocessResult


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_plan_and_preprocess",
        description="Fingerprint a raw dataset (nnU-Net v2 layout), plan how to slice it for "
        "SAM and preprocess it. Reruns reuse everything that is up to date.",
    )
    parser.add_argument(
        "-d",
        nargs="+",
        required=True,
        metavar="DATASET",
        help="dataset id (2, 002), DatasetXXX_Name, or bare name (Synapse)",
    )
    parser.add_argument(
        "-pl",
        default="SliceSAMPlanner",
        metavar="PLANNER",
        help=f"planner: one of {sorted(BUILT_IN_PLANNER_NAMES)} or a dotted path "
        "package.module.ClassName (default: %(default)s)",
    )
    parser.add_argument(
        "-c",
        nargs="+",
        default=None,
        metavar="CONFIGURATION",
        help="configurations to preprocess (default: all, e.g. 2d_256 2d_512 "
        "2d_1024; they share one preprocessed copy)",
    )
    parser.add_argument(
        "-np", type=int, default=2, metavar="N", help="worker processes (default: %(default)s)"
    )
    parser.add_argument(
        "-gpu_memory_target",
        type=float,
        default=None,
        metavar="GB",
        help="memory budget (GB) for the batch size estimate (default: 24)",
    )
    parser.add_argument(
        "--no_pp", action="store_true", help="only fingerprint and plan; do not preprocess"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="redo the fingerprint, the plans and every case"
    )
    parser.add_argument(
        "--verify_dataset_integrity",
        action="store_true",
        help="accepted for nnU-Net compatibility: samseg always verifies",
    )
    return parser


def describe(result: PlanAndPreprocessResult) -> str:
    """Human-readable summary of what a run wrote."""
    lines = [
        f"{result.dataset_name}:",
        f"  fingerprint  {result.fingerprint_path}"
        + (" (up to date, reused)" if result.fingerprint_reused else ""),
        f"  plans        {result.plans_path}"
        + (" (existing plans kept; --overwrite to replan)" if result.plans_reused else ""),
    ]
    for folder, report in zip(result.preprocessed_folders, result.reports, strict=True):
        lines.append(f"  preprocessed {folder} ({report.summary()})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.np < 1:
        build_parser().error(f"-np: expected a positive number of processes, found {args.np}")

    def body() -> None:
        from samseg.planning.workflow import plan_and_preprocess

        for dataset in args.d:
            result = plan_and_preprocess(
                dataset,
                planner_name=args.pl,
                configurations=args.c,
                num_processes=args.np,
                overwrite=args.overwrite,
                preprocess=not args.no_pp,
                gpu_memory_target_gb=args.gpu_memory_target,
            )
            print(describe(result))

    run_command(body)
