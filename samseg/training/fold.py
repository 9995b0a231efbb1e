"""The cases of one fold: the preprocessed cases, split by ``splits_final.json``."""

from __future__ import annotations

from pathlib import Path

from samseg.errors import SamsegInputError
from samseg.preprocessing import stored_identifiers
from samseg.training.splits import ALL_FOLDS, SPLITS_FILE, fold_cases, load_or_create_splits


def fold_case_ids(
    preprocessed_folder: Path, data_folder: Path, fold: int | str
) -> tuple[list[str], list[str]]:
    """(training, validation) case identifiers of ``fold``.

    Args:
        preprocessed_folder: ``PREPROCESSED/DatasetXXX_Name`` (holds ``splits_final.json``,
            created there on first use; fold ``all`` needs none).
        data_folder: the configuration's preprocessed data folder.
        fold: 0 .. 4 or ``"all"`` (every case trains and validates).

    Raises:
        SamsegInputError: no preprocessed cases, or a fold the splits do not have.
    """
    case_ids = stored_identifiers(data_folder)
    if not case_ids:
        raise SamsegInputError(
            f"{data_folder}: expected preprocessed cases, found none; run "
            f"samseg_plan_and_preprocess -d {preprocessed_folder.name}"
        )
    if fold == ALL_FOLDS:
        return fold_cases([], ALL_FOLDS, case_ids)
    splits = load_or_create_splits(preprocessed_folder, case_ids)
    return fold_cases(splits, fold, case_ids, splits_file=preprocessed_folder / SPLITS_FILE)
