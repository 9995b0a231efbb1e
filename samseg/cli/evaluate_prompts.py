"""``samseg_evaluate_prompts``: box Dice, 1-point Dice, Dice after 1..N corrective clicks and
NoC@85/90 per class, with prompts simulated from reference labels."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.errors import run_command
from samseg.devices import DEVICES, resolve_device
from samseg.inference.defaults import DEFAULT_CHECKPOINT, PACKAGED_WEIGHTS

DEFAULT_PLANS = "samsegPlans"


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
    parser.add_argument(
        "-d", metavar="DATASET", help="dataset id, DatasetXXX_Name or name (with -c)"
    )
    parser.add_argument("-c", metavar="CONFIGURATION", help="configuration, e.g. 2d_256")
    parser.add_argument(
        "-tr", metavar="TRAINER", help="trainer of a trained model, e.g. SAMInteractiveTrainer"
    )
    parser.add_argument(
        "-p", default=DEFAULT_PLANS, metavar="PLANS", help="plans name (default: %(default)s)"
    )
    parser.add_argument(
        "-m",
        metavar="MODEL_FOLDER",
        help="model folder {Trainer}__{Plans}__{configuration} (instead of -d, -tr, -p, -c)",
    )
    parser.add_argument(
        "-f", default="0", metavar="FOLD", help="fold of a trained model (default: %(default)s)"
    )
    parser.add_argument(
        "-chk",
        default=DEFAULT_CHECKPOINT,
        metavar="CHECKPOINT",
        help="checkpoint file name in the fold folder (default: %(default)s)",
    )
    parser.add_argument(
        "--sam_checkpoint",
        nargs="?",
        const=PACKAGED_WEIGHTS,
        default=None,
        metavar="PATH|none",
        help="prompt SAM weights not trained on the dataset (official SAM, MedSAM, LiteMedSAM "
        "file or a samseg checkpoint) with the plans of -d/-c/-p instead of -tr/-m; without a "
        "path: the installed official weights of the model type (LiteMedSAM's package); none: "
        "random weights (tests)",
    )
    parser.add_argument(
        "--model_type",
        metavar="TYPE",
        help="backbone of --sam_checkpoint (default: the configuration's)",
    )
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
    parser.add_argument(
        "-device",
        choices=DEVICES,
        default="auto",
        help="auto: cuda when available, else cpu (default: %(default)s)",
    )
    parser.add_argument(
        "-num_threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads for torch (default: one less than the cores, at least 1)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_source(parser, args)
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
        model = _load_model(args)
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


def _check_source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """-m, or -d -c with -tr (trained) or --sam_checkpoint (untrained)."""
    if args.m is not None:
        given = [f"-{f}" for f in ("d", "c", "tr") if getattr(args, f) is not None]
        if args.sam_checkpoint is not None:
            given.append("--sam_checkpoint")
        if given:
            parser.error(
                f"-m: give either -m or -d/-c with -tr or --sam_checkpoint, found also "
                f"{', '.join(given)}"
            )
        return
    if args.d is None or args.c is None:
        parser.error(
            "expected -m MODEL_FOLDER, or -d DATASET -c CONFIGURATION with -tr TRAINER "
            "or --sam_checkpoint PATH"
        )
    if (args.tr is None) == (args.sam_checkpoint is None):
        parser.error(
            "-d/-c: expected exactly one of -tr TRAINER (a trained model) and "
            "--sam_checkpoint PATH (SAM weights)"
        )
    if args.model_type is not None and args.sam_checkpoint is None:
        parser.error("--model_type: only with --sam_checkpoint")


def _load_model(args: argparse.Namespace):
    from samseg.inference import load_promptable_model_folder, load_sam_for_prompts

    if args.sam_checkpoint is not None:
        return load_sam_for_prompts(
            args.d, args.c, args.p, sam_checkpoint=args.sam_checkpoint, model_type=args.model_type
        )
    folder = args.m
    if folder is None:
        from samseg.dataset import resolve_dataset_name
        from samseg.paths import model_folder, results_root

        dataset = resolve_dataset_name(args.d, [results_root()])
        folder = model_folder(dataset, args.tr, args.p, args.c)
    return load_promptable_model_folder(folder, [args.f], args.chk)
