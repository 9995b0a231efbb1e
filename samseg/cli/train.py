"""``samseg_train DATASET CONFIGURATION FOLD``: train, continue or validate one fold."""

from __future__ import annotations

from collections.abc import Sequence

from samseg.cli.arguments import SamsegArgumentParser, fold_argument
from samseg.cli.compute_arguments import add_device_argument
from samseg.cli.errors import run_command
from samseg.training.defaults import DEFAULT_PLANS, DEFAULT_TRAINER


def build_parser() -> SamsegArgumentParser:
    parser = SamsegArgumentParser(
        prog="samseg_train",
        description="Train a SAM-based model on one fold of a preprocessed dataset; results go "
        "to SAMSEG_results/DatasetXXX_Name/{trainer}__{plans}__{configuration}/fold_F.",
    )
    parser.add_argument("dataset", help="dataset id (2, 002), DatasetXXX_Name or bare name")
    parser.add_argument("configuration", help="plans configuration, e.g. 2d_512")
    parser.add_argument("fold", type=fold_argument, help="fold 0-4 of splits_final.json, or 'all'")
    parser.add_argument(
        "-tr",
        default=DEFAULT_TRAINER,
        metavar="TRAINER",
        help="trainer class name (default: %(default)s); an unknown name lists the trainers",
    )
    parser.add_argument(
        "-p", default=DEFAULT_PLANS, metavar="PLANS", help="plans name (default: %(default)s)"
    )
    parser.add_argument(
        "--c", action="store_true", help="continue from the fold's latest checkpoint"
    )
    parser.add_argument(
        "--val", action="store_true", help="only run the final validation (model must exist)"
    )
    parser.add_argument(
        "--val_best",
        action="store_true",
        help="validate with checkpoint_best.pth instead of checkpoint_final.pth",
    )
    parser.add_argument(
        "--npz", action="store_true", help="also save the validation probabilities (.npz)"
    )
    add_device_argument(parser)
    parser.add_argument(
        "--num_gpus",
        type=int,
        default=1,
        metavar="N",
        help="distributed data-parallel ranks (one GPU each; CPU processes with -device cpu)",
    )
    parser.add_argument(
        "--sam_checkpoint",
        default=None,
        metavar="PATH|none",
        help="SAM weights to start from; 'none' for random initialisation; default: the "
        "official file of the model type in $SAMSEG_sam_checkpoints",
    )
    parser.add_argument(
        "--model_type",
        default=None,
        metavar="TYPE",
        help="SAM backbone, a model type of samseg.models.MODEL_TYPES (e.g. vit_b, litemedsam; "
        "an unknown one is an error listing them all); default: the trainer's or the "
        "configuration's",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from samseg.training.run import TrainingRequest, train

    request = TrainingRequest(
        dataset=args.dataset,
        configuration=args.configuration,
        fold=args.fold,
        trainer_name=args.tr,
        plans_name=args.p,
        continue_training=args.c,
        validation_only=args.val,
        use_best_checkpoint=args.val_best,
        save_probabilities=args.npz,
        device=args.device,
        num_processes=args.num_gpus,
        sam_checkpoint=args.sam_checkpoint,
        model_type=args.model_type,
    )
    run_command(lambda: print(f"results in {train(request)}"))
