"""Preprocessing a whole raw dataset: reruns, overwrite, stale files, workers, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from samseg.errors import SamsegInputError
from samseg.preprocessing import (
    data_identifiers,
    load_case,
    preprocess_dataset,
    stored_identifiers,
)
from tests.preprocessing.preprocessing_helpers import make_plans


def snapshot(folder: Path) -> dict:
    """Every stored array and properties file of ``folder``, by case."""
    result = {}
    for path in sorted(folder.glob("*.json")):
        stored = load_case(folder, path.stem)
        result[path.stem] = (stored.data[:], stored.label[:], json.loads(path.read_text()))
    return result


def test_rerun_skips_and_overwrite_redoes(tmp_path: Path, raw_dataset) -> None:
    dataset, plans, out = raw_dataset(), make_plans(), tmp_path / "pp"

    first = preprocess_dataset(dataset, plans, out, num_processes=1)
    written = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    again = preprocess_dataset(dataset, plans, out, num_processes=1)
    forced = preprocess_dataset(dataset, plans, out, num_processes=1, overwrite=True)

    assert (first.done, first.skipped) == (3, 0)
    assert (again.done, again.skipped) == (0, 3)
    assert (forced.done, forced.skipped) == (3, 0)
    assert sorted(p.name for p in written) == sorted(
        f"case{i}{suffix}" for i in range(3) for suffix in (".b2nd", "_seg.b2nd", ".json")
    )


def test_touched_or_changed_raw_file_is_redone(tmp_path: Path, raw_dataset) -> None:
    dataset, plans, out = raw_dataset(), make_plans(), tmp_path / "pp"
    preprocess_dataset(dataset, plans, out, num_processes=1)
    image = dataset.folder / "imagesTr" / "case1_0000.nii.gz"
    status = image.stat()
    os.utime(image, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))

    touched = preprocess_dataset(dataset, plans, out, num_processes=1)
    label = dataset.folder / "labelsTr" / "case2.nii.gz"
    label.write_bytes((dataset.folder / "labelsTr" / "case0.nii.gz").read_bytes())
    changed = preprocess_dataset(dataset, plans, out, num_processes=1)

    assert (touched.done, touched.skipped) == (1, 2)
    assert (changed.done, changed.skipped) == (1, 2)


def test_changed_plans_redo_every_case(tmp_path: Path, raw_dataset) -> None:
    dataset, out = raw_dataset(), tmp_path / "pp"
    preprocess_dataset(dataset, make_plans(), out, num_processes=1)

    report = preprocess_dataset(
        dataset, make_plans(normalization=(("CTNormalization", -200, 300),)), out, 1
    )

    assert (report.done, report.skipped) == (3, 0)


def test_cases_gone_from_the_dataset_are_removed(tmp_path: Path, raw_dataset) -> None:
    dataset, out = raw_dataset(num_cases=3), tmp_path / "pp"
    preprocess_dataset(dataset, make_plans(), out, num_processes=1)
    (dataset.folder / "imagesTr" / "case2_0000.nii.gz").unlink()
    (dataset.folder / "labelsTr" / "case2.nii.gz").unlink()
    description = json.loads((dataset.folder / "dataset.json").read_text())
    (dataset.folder / "dataset.json").write_text(json.dumps({**description, "numTraining": 2}))
    (out / ".0123456789ab.partial.case0.b2nd").write_bytes(b"left by a crash")
    (out / "old.b2nd").write_bytes(b"an incomplete case no longer in the dataset")
    (out / "notes.json").write_text("{}")

    report = preprocess_dataset(type(dataset)(dataset.folder), make_plans(), out, 1)

    assert (report.done, report.skipped, report.removed) == (0, 2, 2)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["notes.json"]
        + [f"case{i}{suffix}" for i in range(2) for suffix in (".b2nd", "_seg.b2nd", ".json")]
    )
    assert stored_identifiers(out) == ["case0", "case1"]


def test_temporaries_of_a_live_run_are_kept(tmp_path: Path, raw_dataset) -> None:
    """Another run preprocessing into the same folder keeps its in-progress files."""
    dataset, out = raw_dataset(num_cases=2), tmp_path / "pp"
    preprocess_dataset(dataset, make_plans(), out, num_processes=1)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        kept = out / f".{live.pid}-0123abcd.partial.case0.b2nd"
        kept.write_bytes(b"being written by another run")
        stale = out / ".999999999-0123abcd.partial.case1.b2nd"
        stale.write_bytes(b"left by a crash")
        preprocess_dataset(type(dataset)(dataset.folder), make_plans(), out, 1)
        assert kept.is_file() and not stale.exists()
    finally:
        live.kill()
        live.wait()


def test_two_workers_write_what_one_writes(tmp_path: Path, raw_dataset) -> None:
    dataset, plans = raw_dataset(num_cases=4), make_plans()

    preprocess_dataset(dataset, plans, tmp_path / "one", num_processes=1)
    report = preprocess_dataset(dataset, plans, tmp_path / "two", num_processes=2)

    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert report.done == 4 and one.keys() == two.keys()
    for identifier in one:
        np.testing.assert_array_equal(one[identifier][0], two[identifier][0])
        np.testing.assert_array_equal(one[identifier][1], two[identifier][1])
        assert one[identifier][2] == two[identifier][2]


@pytest.mark.parametrize("num_processes", [1, 2])
def test_worker_errors_reach_the_caller_unchanged(
    tmp_path: Path, raw_dataset, num_processes: int
) -> None:
    dataset = raw_dataset()
    corrupt = dataset.folder / "imagesTr" / "case1_0000.nii.gz"
    corrupt.write_bytes(b"not an image")

    with pytest.raises(SamsegInputError) as raised:
        preprocess_dataset(dataset, make_plans(), tmp_path / "pp", num_processes)

    assert str(raised.value).startswith(f"{corrupt}: expected a readable image")
    assert not (tmp_path / "pp" / "case1.json").exists()


def test_configurations_share_one_data_identifier() -> None:
    assert data_identifiers(make_plans()) == ["samsegPlans_2d"]
