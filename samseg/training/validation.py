"""End-of-training validation: full volumes of a fold's validation cases, predicted from the
raw images with the slice predictor and evaluated against the raw labels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from samseg.dataset import RawDataset
from samseg.errors import SamsegInputError
from samseg.evaluation import EvaluationSummary, evaluate_folders
from samseg.inference import SlicePredictor

VALIDATION_FOLDER = "validation"
SUMMARY_FILE = "summary.json"


def validate_fold(
    *,
    model_folder: Path,
    raw_folder: Path,
    fold: int | str,
    checkpoint_name: str,
    case_ids: Sequence[str],
    device: torch.device,
    use_mirroring: bool = True,
    save_probabilities: bool = False,
    show_progress: bool = True,
) -> EvaluationSummary:
    """Predict ``case_ids`` from ``raw_folder/imagesTr`` and evaluate them against labelsTr.

    Args:
        model_folder: ``RESULTS/DatasetXXX_Name/{Trainer}__{Plans}__{configuration}``.
        raw_folder: the raw dataset ``RAW/DatasetXXX_Name``.
        fold: the fold whose checkpoint predicts.
        checkpoint_name: ``checkpoint_final.pth`` or ``checkpoint_best.pth``.
        case_ids: the fold's validation cases.
        device: where the predictor runs.
        use_mirroring: average over in-plane flips (only for networks trained with them).
        save_probabilities: also write ``.npz`` probabilities (``--npz``).
        show_progress: progress bars.

    Returns:
        The evaluation, also written to ``fold_F/validation/summary.json``.

    Raises:
        SamsegInputError: a validation case missing from the raw dataset.
    """
    dataset = RawDataset(raw_folder)
    description = dataset.description
    cases = {case.identifier: case for case in dataset.training_cases}
    missing = [identifier for identifier in case_ids if identifier not in cases]
    if missing:
        raise SamsegInputError(
            f"{raw_folder / 'imagesTr'}: expected the validation cases of fold {fold}, found "
            f"no {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
        )
    output = model_folder / f"fold_{fold}" / VALIDATION_FOLDER
    predictor = SlicePredictor.from_model_folder(
        model_folder,
        [fold],
        checkpoint_name=checkpoint_name,
        device=device,
        use_mirroring=use_mirroring,
        show_progress=show_progress,
    )
    predictor.predict_to_files(
        {identifier: list(cases[identifier].images) for identifier in case_ids},
        output,
        save_probabilities=save_probabilities,
    )
    return evaluate_folders(
        raw_folder / "labelsTr",
        output,
        description.labels,
        description.file_ending,
        output_file=output / SUMMARY_FILE,
        reader_writer=description.image_reader_writer(),
        cases=list(case_ids),
    )
