"""samseg in a tree nnU-Net also uses: no file nnU-Net wrote is modified."""

from __future__ import annotations

import json
import os
from pathlib import Path

from samseg.paths import DATASET_JSON_COPY, preprocessed_dataset_json
from samseg.planning.fingerprint import FINGERPRINT_FILE
from samseg.planning.workflow import plan_and_preprocess
from samseg.training.splits import load_or_create_splits

OLD_MTIME_NS = 1_500_000_000 * 10**9


def nnunet_files(roots: dict[str, Path], raw_folder: Path) -> list[Path]:
    """Write what nnU-Net's plan_and_preprocess and training leave in a shared tree."""
    preprocessed = roots["preprocessed"] / raw_folder.name
    results = roots["results"] / raw_folder.name / "nnUNetTrainer__nnUNetPlans__2d"
    contents = {
        preprocessed / "dataset.json": (raw_folder / "dataset.json").read_bytes(),
        preprocessed / "dataset_fingerprint.json": b'{"spacings": [[3.0, 1.0, 1.0]]}\n',
        preprocessed / "nnUNetPlans.json": b'{"plans_name": "nnUNetPlans"}\n',
        preprocessed / "splits_final.json": json.dumps(
            [{"train": ["case00", "case01"], "val": ["case02"]}]
        ).encode(),
        preprocessed / "gt_segmentations" / "case00.nii.gz": b"nnU-Net's label copy",
        preprocessed / "nnUNetPlans_2d" / "case00.b2nd": b"nnU-Net's data",
        results / "plans.json": b'{"plans_name": "nnUNetPlans"}\n',
        results / "dataset.json": (raw_folder / "dataset.json").read_bytes(),
        results / "fold_0" / "checkpoint_final.pth": b"weights",
    }
    for path, content in contents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, ns=(OLD_MTIME_NS, OLD_MTIME_NS))
    return list(contents)


def snapshot(paths: list[Path]) -> dict[Path, tuple[bytes, int]]:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}


def test_plan_and_preprocess_leaves_nnunet_files_untouched(make_raw_dataset, roots):
    raw_folder = make_raw_dataset(num_cases=3)
    files = nnunet_files(roots, raw_folder)
    before = snapshot(files)
    result = plan_and_preprocess("Toy", num_processes=1)
    assert snapshot(files) == before
    folder = roots["preprocessed"] / raw_folder.name
    assert result.fingerprint_path == folder / FINGERPRINT_FILE
    assert json.loads(result.fingerprint_path.read_text())["case_identifiers"] == [
        "case00",
        "case01",
        "case02",
    ]
    assert preprocessed_dataset_json(folder) == folder / DATASET_JSON_COPY
    assert (folder / DATASET_JSON_COPY).is_file()
    splits = load_or_create_splits(folder, ["case00", "case01", "case02"])
    assert splits == [{"train": ["case00", "case01"], "val": ["case02"]}]
    assert snapshot(files) == before


def test_older_samseg_folder_reads_its_dataset_json(tmp_path):
    (tmp_path / "dataset.json").write_text("{}")
    assert preprocessed_dataset_json(tmp_path) == tmp_path / "dataset.json"
    (tmp_path / DATASET_JSON_COPY).write_text("{}")
    assert preprocessed_dataset_json(tmp_path) == tmp_path / DATASET_JSON_COPY
