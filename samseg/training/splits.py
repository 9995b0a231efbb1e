"""Cross-validation folds in nnU-Net's ``splits_final.json``.

The file lives in the preprocessed dataset folder and is a list with one
``{"train": [...], "val": [...]}`` per fold. A file written by nnU-Net is used as it is; a
missing one is created exactly as nnU-Net's ``generate_crossval_split`` does: scikit-learn
``KFold(n_splits=5, shuffle=True, random_state=12345)`` over the sorted case identifiers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

from samseg.errors import SamsegInputError
from samseg.io import read_json, write_json

SPLITS_FILE = "splits_final.json"
ALL_FOLDS = "all"

Splits = list[dict[str, list[str]]]


def generate_crossval_split(
    case_ids: Sequence[str], num_folds: int = 5, seed: int = 12345
) -> Splits:
    """nnU-Net's folds of ``case_ids`` (in the order given; nnU-Net passes them sorted).

    With fewer cases than ``num_folds`` (but at least two), every case is its own fold
    (leave-one-out), where nnU-Net would stop with scikit-learn's error.
    """
    if len(case_ids) < 2:
        raise SamsegInputError(
            f"expected at least 2 cases for cross-validation, found {len(case_ids)}; "
            f"train on fold '{ALL_FOLDS}' instead"
        )
    identifiers = np.array(list(case_ids))
    kfold = KFold(n_splits=min(num_folds, len(identifiers)), shuffle=True, random_state=seed)
    return [
        {"train": identifiers[train].tolist(), "val": identifiers[val].tolist()}
        for train, val in kfold.split(identifiers)
    ]


def load_or_create_splits(
    preprocessed_dataset_folder: str | os.PathLike,
    case_ids: Sequence[str],
    num_folds: int = 5,
    seed: int = 12345,
) -> Splits:
    """The folds in ``preprocessed_dataset_folder/splits_final.json``, created when absent.

    Args:
        preprocessed_dataset_folder: ``PREPROCESSED/DatasetXXX_Name``.
        case_ids: identifiers of the preprocessed training cases.
        num_folds: folds of a new file.
        seed: ``KFold`` random state of a new file.

    Returns:
        One ``{"train": [...], "val": [...]}`` per fold.

    Raises:
        SamsegInputError: naming the file, when an existing file is malformed or lists a case
            that is not among ``case_ids``.
    """
    path = Path(preprocessed_dataset_folder) / SPLITS_FILE
    if not path.is_file():
        splits = generate_crossval_split(sorted(case_ids), num_folds, seed)
        write_json(splits, path)
        return splits
    splits = read_json(path)
    _check_splits(splits, set(case_ids), path)
    return splits


def fold_cases(
    splits: Splits,
    fold: int | str,
    case_ids: Sequence[str],
    *,
    splits_file: str | os.PathLike = SPLITS_FILE,
) -> tuple[list[str], list[str]]:
    """Training and validation cases of ``fold``.

    Args:
        splits: from :func:`load_or_create_splits`.
        fold: 0 .. len(splits) - 1 (an integer or its string), or ``"all"``: train on every
            case and validate on every case, as nnU-Net does.
        case_ids: every training case (used for ``"all"``).
        splits_file: where ``splits`` came from, for error messages.

    Returns:
        (training case ids, validation case ids).
    """
    if fold == ALL_FOLDS:
        every = sorted(case_ids)
        return every, list(every)
    index = _fold_index(fold)
    if index is None or not 0 <= index < len(splits):
        raise SamsegInputError(
            f"{splits_file}: expected a fold in 0..{len(splits) - 1} or '{ALL_FOLDS}', "
            f"found {fold!r} ({len(splits)} folds)"
        )
    return list(splits[index]["train"]), list(splits[index]["val"])


def _fold_index(fold: int | str) -> int | None:
    if isinstance(fold, bool):
        return None
    if isinstance(fold, int):
        return fold
    return int(fold) if isinstance(fold, str) and fold.isdigit() else None


def _check_splits(splits: object, case_ids: set[str], path: Path) -> None:
    """Raise a SamsegInputError naming ``path`` unless ``splits`` is a valid split list."""
    if not isinstance(splits, list) or not splits:
        raise SamsegInputError(
            f"{path}: expected a non-empty list of {{'train': [...], 'val': [...]}}, "
            f"found {type(splits).__name__}"
        )
    for index, split in enumerate(splits):
        if not isinstance(split, dict) or not all(
            isinstance(split.get(key), list) and all(isinstance(c, str) for c in split[key])
            for key in ("train", "val")
        ):
            raise SamsegInputError(
                f"{path}: fold {index}: expected {{'train': [case ids], 'val': [case ids]}}, "
                f"found {split!r:.200}"
            )
        unknown = sorted((set(split["train"]) | set(split["val"])) - case_ids)
        if unknown:
            raise SamsegInputError(
                f"{path}: fold {index}: expected preprocessed cases, found {len(unknown)} "
                f"unknown: {unknown[:5]}{' ...' if len(unknown) > 5 else ''}"
            )
