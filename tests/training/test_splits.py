"""splits_final.json: nnU-Net's KFold folds when created, a given file used as it is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import KFold

from samseg.errors import SamsegInputError
from samseg.training.splits import fold_cases, load_or_create_splits

CASES = [f"case_{i:03d}" for i in (7, 3, 12, 1, 9, 4, 11, 0, 5, 8, 2)]


def test_new_splits_are_nnunets_kfold_of_the_sorted_ids(tmp_path: Path) -> None:
    splits = load_or_create_splits(tmp_path, CASES)

    ordered = np.array(sorted(CASES))
    kfold = KFold(n_splits=5, shuffle=True, random_state=12345)
    expected = [
        {"train": ordered[train].tolist(), "val": ordered[val].tolist()}
        for train, val in kfold.split(ordered)
    ]
    assert splits == expected
    assert json.loads((tmp_path / "splits_final.json").read_text()) == expected


def test_an_existing_file_is_used_as_it_is(tmp_path: Path) -> None:
    custom = [{"train": CASES[:2], "val": CASES[2:4]}, {"train": CASES[4:], "val": CASES[:1]}]
    path = tmp_path / "splits_final.json"
    path.write_text(json.dumps(custom))
    before = path.read_text()

    assert load_or_create_splits(tmp_path, CASES) == custom
    assert path.read_text() == before
    assert fold_cases(custom, 1, CASES) == (CASES[4:], CASES[:1])
    assert fold_cases(custom, "0", CASES) == (CASES[:2], CASES[2:4])


def test_a_file_naming_unknown_cases_or_malformed_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "splits_final.json"
    path.write_text(json.dumps([{"train": ["case_007", "ghost"], "val": ["case_003"]}]))
    with pytest.raises(SamsegInputError, match=r"splits_final.json: fold 0: .*'ghost'"):
        load_or_create_splits(tmp_path, CASES)
    path.write_text(json.dumps([{"training": CASES}]))
    with pytest.raises(SamsegInputError, match=r"splits_final.json: fold 0: expected"):
        load_or_create_splits(tmp_path, CASES)


def test_fold_all_and_unknown_folds(tmp_path: Path) -> None:
    splits = load_or_create_splits(tmp_path, CASES)
    train, val = fold_cases(splits, "all", CASES)
    assert train == val == sorted(CASES)
    for fold in (5, -1, "five", True):
        with pytest.raises(SamsegInputError, match=rf"my/splits_final.json: .*{fold!r}"):
            fold_cases(splits, fold, CASES, splits_file="my/splits_final.json")


def test_fewer_cases_than_folds_leave_one_out_and_one_case_cannot_split(tmp_path: Path) -> None:
    splits = load_or_create_splits(tmp_path, ["b", "a", "c"])
    assert len(splits) == 3
    assert sorted(v for s in splits for v in s["val"]) == ["a", "b", "c"]
    with pytest.raises(SamsegInputError, match="at least 2 cases"):
        load_or_create_splits(tmp_path / "other", ["a"])
