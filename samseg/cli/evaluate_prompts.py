"""``samseg_evaluate_prompts``: box Dice, 1-point Dice, Dice after 1..N corrective clicks and
NoC@85/90 per class, with prompts simulated from reference labels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.compute_arguments import add_device_argument, add_num_threads_argument
from samseg.cli.errors import run_command
from samseg.cli.promptable_source import (
    add_promptable_source_arguments,
    check_promptable_source,
    load_promptable_source,
)
from samseg.devices import resolve_device


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_evaluate_prompts",
        description="Click evaluation of a promptable SAM: per class the Dice of a tight box, "
        "of one interior point, and after each of N corrective clicks (prompts simulated from "
        "the reference labels, per slice view), NoC@85/90 and NoF. Dice is measured in the "
        "plans' preprocessed grid. Writes OUTPUT/prompt_summary.json, OUTPUT/clicks.png and "
        "one OUTPUT/cases/CASE.json per case (a rerun skips finished cases).",
    )
    parser.add_argument(
        "-i",
        nargs="+",
        required=True,
        metavar="INPUT",
        help="folder of CASE_XXXX<file_ending> images (e.g. imagesTs), or image files",
    )
    parser.add_argument(
        "-ref",
        required=True,
        metavar="LABELS",
        help="folder of reference labels CASE<file_ending> on the images' grids (e.g. labelsTs)",
    )
    parser.add_argument("-o", required=True, metavar="OUTPUT", help="output folder")
    add_promptable_source_arguments(parser)
    parser.add_argument(
        "--clicks",
        type=int,
        default=None,
        metavar="N",
        help="corrective clicks per slice view and class; NoC is capped at N (default: 10)",
    )
    parser.add_argument(
        "--multimask_single_point",
        action="store_true",
        help="with one point and no mask prompt take SAM's best of three ambiguity masks "
        "(for SA-1B SAM); default: the single-mask output",
    )
    parser.add_argument(
        "--no_mask_prompt",
        action="store_true",
        help="do not give the previous logits as mask prompt between clicks",
    )
    parser.add_argument(
        "-step_size",
        type=float,
        default=None,
        metavar="STEP",
        help="sliding-window step as a fraction of the input size (default: the plans')",
    )
    parser.add_argument(
        "-batch_size",
        type=int,
        default=None,
        metavar="N",
        help="views per encoder call (default: the configuration's batch size on a GPU, "
        "(512 / S)^2 on the CPU)",
    )
    add_device_argument(parser)
    add_num_threads_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_promptable_source(parser, args)
    for flag in ("clicks", "batch_size", "num_threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"-{flag}: expected a positive number, found {value}")

    def body() -> None:
        from samseg.evaluation.prompts import (
            DEFAULT_CLICKS,
            ClickEvaluationSettings,
            evaluate_prompts,
            format_prompt_table,
        )
        from samseg.inference import find_cases
        from samseg.prompting import PromptingSettings
        from samseg.threads import set_torch_threads

        set_torch_threads(args.num_threads)
        device = resolve_device(args.device)
        model = load_promptable_source(args)
        settings = ClickEvaluationSettings(
            clicks=args.clicks or DEFAULT_CLICKS,
            prompting=PromptingSettings(
                previous_logits_as_mask=not args.no_mask_prompt,
                multimask_single_point=args.multimask_single_point,
            ),
            step_size=args.step_size,
            batch_size=args.batch_size,
        )
        cases = find_cases(args.i, model.description)
        summary = evaluate_prompts(
            model, cases, args.ref, args.o, settings, device=device, show_progress=True
        )
        print(format_prompt_table(summary))
        print(f"summary written to {summary.output_file}, curves to {Path(args.o) / 'clicks.png'}")

    run_command(body)
