"""The network a prompting command runs: a trained model, or SAM weights with a dataset's plans.

One owner for the flags (``-m``, or ``-d -c`` with ``-tr`` or ``--sam_checkpoint``, plus
``-p -f -chk --model_type``), their combination check and the loading, shared by
``samseg_evaluate_prompts`` and ``samseg_adapt``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from samseg.inference.defaults import DEFAULT_CHECKPOINT, PACKAGED_WEIGHTS

if TYPE_CHECKING:
    from samseg.inference.prompted_prediction import PromptableModel

DEFAULT_PLANS = "samsegPlans"


def add_promptable_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``-d -c -tr -p -m -f -chk --sam_checkpoint --model_type``."""
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


def check_promptable_source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
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


def load_promptable_source(args: argparse.Namespace) -> PromptableModel:
    """The networks the checked flags name (imports the heavy modules only now)."""
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
