"""``samseg_predict``: segment images with a trained model, written in their exact geometry."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from samseg.adaptation.vocabulary import ADAPTORS
from samseg.cli.adaptor_arguments import (
    adaptor_settings,
    add_adaptor_arguments,
    changed_adaptor_flags,
    check_adaptor_arguments,
)
from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.compute_arguments import add_device_argument, add_num_threads_argument
from samseg.cli.errors import run_command
from samseg.devices import resolve_device
from samseg.inference.defaults import DEFAULT_CHECKPOINT, PACKAGED_WEIGHTS
from samseg.paths import model_folder, results_root
from samseg.precisions import INFERENCE_PRECISIONS

if TYPE_CHECKING:
    from samseg.inference.prompted_prediction import PromptableModel, PromptedPredictor


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_predict",
        description="Predict segmentations with a trained samseg model. The model folder's "
        "plans.json and dataset.json decide preprocessing and labels; outputs get the input "
        "images' exact shape, spacing, origin and direction.",
    )
    parser.add_argument(
        "-i",
        nargs="+",
        required=True,
        metavar="INPUT",
        help="folder of CASE_XXXX<file_ending> images (nnU-Net layout), folder of DICOM series "
        "folders, DICOM series folder, or image files",
    )
    parser.add_argument("-o", required=True, metavar="OUTPUT", help="output folder")
    parser.add_argument(
        "-d", metavar="DATASET", help="dataset id, DatasetXXX_Name or name (with -tr and -c)"
    )
    parser.add_argument("-c", metavar="CONFIGURATION", help="configuration, e.g. 2d_512")
    parser.add_argument("-tr", metavar="TRAINER", help="trainer class name, e.g. SAMLoRATrainer")
    parser.add_argument(
        "-p", default="samsegPlans", metavar="PLANS", help="plans name (default: %(default)s)"
    )
    parser.add_argument(
        "-m",
        metavar="MODEL_FOLDER",
        help="model folder {Trainer}__{Plans}__{configuration} (instead of -d, -tr, -p, -c)",
    )
    parser.add_argument(
        "-f",
        nargs="+",
        default=None,
        metavar="FOLD",
        help="folds to ensemble, e.g. 0 1 2 3 4 or all (default: those of folds 0-4 with a "
        "checkpoint; fold all only when it is the only one)",
    )
    parser.add_argument(
        "-chk",
        default=DEFAULT_CHECKPOINT,
        metavar="CHECKPOINT",
        help="checkpoint file name in each fold folder (default: %(default)s)",
    )
    parser.add_argument(
        "--save_probabilities",
        action="store_true",
        help="also write CASE.npz (probabilities, (C, z, y, x) float32) and CASE.json",
    )
    parser.add_argument(
        "--continue_prediction",
        action="store_true",
        help="skip cases whose outputs exist (outputs are written atomically); refused when "
        "the folder's prediction_settings.json records other settings",
    )
    parser.add_argument(
        "--disable_tta", action="store_true", help="no mirroring test-time augmentation (4x faster)"
    )
    parser.add_argument(
        "-step_size",
        type=float,
        default=None,
        metavar="STEP",
        help="sliding-window step as a fraction of the input size (default: the plans')",
    )
    add_device_argument(parser)
    parser.add_argument(
        "--precision",
        choices=INFERENCE_PRECISIONS,
        default="fp32",
        help="fp32, bf16 autocast, or int8 dynamic quantization of the image encoder (CPU "
        "only) (default: %(default)s)",
    )
    parser.add_argument(
        "-batch_size",
        type=int,
        default=None,
        metavar="N",
        help="network inputs per forward pass (default: automatic)",
    )
    add_num_threads_argument(
        parser, ", as in training; 1 is fastest for small networks on a busy machine"
    )
    parser.add_argument(
        "--largest_component",
        action="store_true",
        help="keep only the largest connected component of each label",
    )
    parser.add_argument("-num_parts", type=int, default=1, help="split the cases into N parts")
    parser.add_argument("-part_id", type=int, default=0, help="which part this process predicts")
    prompts = parser.add_argument_group(
        "prompted prediction",
        "segment each class with SAM prompts simulated per slice from a label file per case",
    )
    prompts.add_argument(
        "--prompts",
        metavar="MODE",
        default=None,
        help="box|point|points:N|clicks:N. box: the tight box; point: the interior point "
        "farthest from the border; points:N: N random interior points; clicks:N: N corrective "
        "clicks (test-time mirroring is off)",
    )
    prompts.add_argument(
        "--prompt_labels",
        metavar="DIR",
        default=None,
        help="folder of label files CASE<file_ending> (same case names as the inputs) the "
        "prompts are simulated from; classes absent from a slice get no prompt and no mask",
    )
    prompts.add_argument(
        "--prompt_seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the random points of points:N (default: %(default)s)",
    )
    prompts.add_argument(
        "--sam_checkpoint",
        nargs="?",
        const=PACKAGED_WEIGHTS,
        default=None,
        metavar="PATH|none",
        help="prompt SAM weights not trained on the dataset (official SAM, MedSAM, "
        "LiteMedSAM file) with the plans of -d/-c/-p instead of a trained model; without a "
        "path: the installed official weights of the model type (LiteMedSAM's package); "
        "none: random weights",
    )
    prompts.add_argument(
        "--model_type",
        default=None,
        metavar="TYPE",
        help="backbone of --sam_checkpoint (vit_b, litemedsam, ...; default: the configuration's)",
    )
    adaptation = parser.add_argument_group(
        "adaptation by example (P²SAM)",
        "segment each case from its own annotated prior scan with a promptable network (-m, "
        "-d/-c with -tr or --sam_checkpoint; one fold), no training; test-time mirroring is off",
    )
    adaptation.add_argument(
        "--adaptor",
        choices=ADAPTORS,
        default=None,
        help="p2sam: P²SAM's part-aware prompts from each case's reference (PerSAM and fixed "
        "part counts: --mode)",
    )
    adaptation.add_argument(
        "--reference_images",
        metavar="DIR",
        default=None,
        help="folder of the references' CASE_XXXX<file_ending> images (CASE: the case's "
        "identifier, e.g. the patient's prior scan)",
    )
    adaptation.add_argument(
        "--reference_labels",
        metavar="DIR",
        default=None,
        help="folder of the references' labels CASE<file_ending>; each must hold every class",
    )
    add_adaptor_arguments(adaptation)
    return parser


def _check_prompt_flags(parser: SamsegArgumentParser, args: argparse.Namespace) -> None:
    """Refuse prompt flags that do not go together (exit status 2)."""
    if (args.prompts is None) != (args.prompt_labels is None):
        parser.error("--prompts and --prompt_labels: expected both or neither")
    if args.prompts is not None:
        from samseg.prompting.modes import PromptMode

        try:
            args.prompts = PromptMode.parse(args.prompts)
        except ValueError as error:
            parser.error(str(error))
    if args.model_type is not None and args.sam_checkpoint is None:
        parser.error("--model_type: expected it with --sam_checkpoint")
    if args.sam_checkpoint is None:
        return
    if args.prompts is None and args.adaptor is None:
        parser.error(
            "--sam_checkpoint: expected it with --prompts and --prompt_labels, or with --adaptor"
        )
    given = [flag for flag in ("m", "tr", "f") if getattr(args, flag) is not None]
    if given or args.d is None or args.c is None:
        parser.error(
            "--sam_checkpoint: expected -d DATASET and -c CONFIGURATION (plans of the "
            f"preprocessed dataset, -p PLANS) and no -m/-tr/-f{', found -' if given else ''}"
            + ", -".join(given)
        )


def _check_adaptor_flags(parser: SamsegArgumentParser, args: argparse.Namespace) -> None:
    """Refuse adaptor flags without ``--adaptor`` and what does not go with it (exit 2)."""
    references = [
        f"--{name}" for name in ("reference_images", "reference_labels") if getattr(args, name)
    ]
    if args.adaptor is None:
        given = references + changed_adaptor_flags(args)
        if given:
            parser.error(f"{', '.join(given)}: expected with --adaptor")
        return
    if len(references) != 2:
        parser.error("--adaptor: expected --reference_images DIR and --reference_labels DIR")
    refused = {
        "--prompts": args.prompts is not None,
        "-f with several folds": args.f is not None and len(args.f) != 1,
        f"--precision {args.precision}": args.precision != "fp32",
        "-step_size": args.step_size is not None,
    }
    given = [flag for flag, present in refused.items() if present]
    if given:
        parser.error(
            f"--adaptor: found {', '.join(given)}; the adaptor makes its own prompts for one "
            "network in fp32, each whole slice one input (no sliding window)"
        )
    check_adaptor_arguments(parser, args)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_prompt_flags(parser, args)
    _check_adaptor_flags(parser, args)
    by_name = [flag for flag in ("d", "c", "tr") if getattr(args, flag) is not None]
    if args.m is not None and by_name:
        parser.error(f"-m: give either -m or -d/-tr/-c, found also -{', -'.join(by_name)}")
    if args.m is None and len(by_name) != 3 and args.sam_checkpoint is None:
        parser.error("expected -m MODEL_FOLDER, or -d DATASET, -tr TRAINER and -c CONFIGURATION")
    if args.num_parts < 1 or not 0 <= args.part_id < args.num_parts:
        parser.error(f"-part_id: expected 0 <= part_id < num_parts ({args.num_parts})")
    if args.num_threads is not None and args.num_threads < 1:
        parser.error(f"-num_threads: expected a positive number, found {args.num_threads}")

    def body() -> None:
        from samseg.inference import SlicePredictor, find_cases
        from samseg.threads import set_torch_threads

        set_torch_threads(args.num_threads)
        if args.adaptor is not None:
            _adapt_with_priors(args)
            return
        options = {
            "device": resolve_device(args.device),
            "step_size": args.step_size,
            "batch_size": args.batch_size,
            "precision": args.precision,
            "largest_component": args.largest_component,
        }
        if args.prompts is not None:
            predictor = _prompted_predictor(args, options)
        else:
            folder = Path(args.m) if args.m is not None else _model_folder(args)
            predictor = SlicePredictor.from_model_folder(
                folder, args.f, args.chk, use_mirroring=not args.disable_tta, **options
            )
        cases = find_cases(args.i, predictor.description)
        run = predictor.predict_to_files(
            cases,
            args.o,
            save_probabilities=args.save_probabilities,
            continue_prediction=args.continue_prediction,
            num_parts=args.num_parts,
            part_id=args.part_id,
        )
        print(
            f"{len(run.predicted)} case(s) predicted, {len(run.skipped)} skipped as complete; "
            f"{len(run)} segmentations in {args.o}"
        )

    run_command(body)


def _prompted_predictor(args: argparse.Namespace, options: dict) -> PromptedPredictor:
    from samseg.inference.prompted_prediction import PromptedPredictor
    from samseg.prompting import PromptingSettings

    settings = PromptingSettings(seed=args.prompt_seed)
    model = _promptable_model(args)
    return PromptedPredictor(model, args.prompts, args.prompt_labels, settings=settings, **options)


def _promptable_model(args: argparse.Namespace) -> PromptableModel:
    """The promptable networks of -m / -d -tr -c (folds -f), or of --sam_checkpoint."""
    from samseg.inference.prompted_prediction import (
        load_promptable_model_folder,
        load_sam_for_prompts,
    )

    if args.sam_checkpoint is not None:
        return load_sam_for_prompts(
            args.d, args.c, args.p, sam_checkpoint=args.sam_checkpoint, model_type=args.model_type
        )
    folder = Path(args.m) if args.m is not None else _model_folder(args)
    return load_promptable_model_folder(folder, args.f, args.chk)


def _adapt_with_priors(args: argparse.Namespace) -> None:
    """``--adaptor p2sam``: each case from its own reference (``samseg.adaptation.priors``)."""
    from samseg.adaptation.priors import adapt_with_priors
    from samseg.inference import find_cases
    from samseg.inference.case_references import reference_files

    model = _promptable_model(args)
    cases = find_cases(args.i, model.description)
    references = reference_files(
        args.reference_images, args.reference_labels, cases, model.description
    )
    adaptor, volume = adaptor_settings(args)
    run = adapt_with_priors(
        model,
        cases,
        references,
        args.o,
        adaptor=adaptor,
        volume=volume,
        save_prompts=args.save_prompts,
        save_overlays=args.save_overlays,
        device=resolve_device(args.device),
        batch_size=args.batch_size,
        largest_component=args.largest_component,
        save_probabilities=args.save_probabilities,
        continue_prediction=args.continue_prediction,
        num_parts=args.num_parts,
        part_id=args.part_id,
        reference_record={
            "reference_images": str(Path(args.reference_images).resolve()),
            "reference_labels": str(Path(args.reference_labels).resolve()),
        },
    )
    print(
        f"{len(run.predicted)} case(s) segmented from their references, {len(run.skipped)} "
        f"skipped as complete; {len(run)} segmentations in {args.o}"
    )


def _model_folder(args: argparse.Namespace) -> Path:
    from samseg.dataset import resolve_dataset_name

    root = results_root()
    dataset = resolve_dataset_name(args.d, [root])
    return model_folder(dataset, args.tr, args.p, args.c)
