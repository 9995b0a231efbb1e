"""``samseg_predict``: segment images with a trained model, written in their exact geometry."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from samseg.cli.arguments import SamsegArgumentParser
from samseg.cli.errors import run_command
from samseg.devices import DEVICES, resolve_device
from samseg.inference.defaults import DEFAULT_CHECKPOINT
from samseg.paths import model_folder, results_root
from samseg.precisions import INFERENCE_PRECISIONS


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
    parser.add_argument(
        "-device",
        choices=DEVICES,
        default="auto",
        help="auto: cuda when available, else cpu (default: %(default)s)",
    )
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
    parser.add_argument(
        "-num_threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads for torch (default: one less than the cores, at least 1, as in "
        "training); 1 is fastest for small networks on a busy machine",
    )
    parser.add_argument(
        "--largest_component",
        action="store_true",
        help="keep only the largest connected component of each label",
    )
    parser.add_argument("-num_parts", type=int, default=1, help="split the cases into N parts")
    parser.add_argument("-part_id", type=int, default=0, help="which part this process predicts")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    by_name = [flag for flag in ("d", "c", "tr") if getattr(args, flag) is not None]
    if args.m is not None and by_name:
        parser.error(f"-m: give either -m or -d/-tr/-c, found also -{', -'.join(by_name)}")
    if args.m is None and len(by_name) != 3:
        parser.error("expected -m MODEL_FOLDER, or -d DATASET, -tr TRAINER and -c CONFIGURATION")
    if args.num_parts < 1 or not 0 <= args.part_id < args.num_parts:
        parser.error(f"-part_id: expected 0 <= part_id < num_parts ({args.num_parts})")
    if args.num_threads is not None and args.num_threads < 1:
        parser.error(f"-num_threads: expected a positive number, found {args.num_threads}")

    def body() -> None:
        from samseg.inference import SlicePredictor, find_cases
        from samseg.threads import set_torch_threads

        set_torch_threads(args.num_threads)
        folder = Path(args.m) if args.m is not None else _model_folder(args)
        predictor = SlicePredictor.from_model_folder(
            folder,
            args.f,
            args.chk,
            device=resolve_device(args.device),
            use_mirroring=not args.disable_tta,
            step_size=args.step_size,
            batch_size=args.batch_size,
            precision=args.precision,
            largest_component=args.largest_component,
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


def _model_folder(args: argparse.Namespace) -> Path:
    from samseg.dataset import resolve_dataset_name

    root = results_root()
    dataset = resolve_dataset_name(args.d, [root])
    return model_folder(dataset, args.tr, args.p, args.c)
