"""Killing ``samseg_plan_and_preprocess -np 2`` leaves no worker process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_volume

psutil = pytest.importorskip("psutil")

REPOSITORY = Path(__file__).resolve().parents[2]


def write_dataset(raw: Path, num_cases: int = 8, shape=(32, 160, 160)) -> None:
    folder = raw / "Dataset007_Toy"
    rng = np.random.default_rng(0)
    for index in range(num_cases):
        image = rng.normal(0, 100, shape).astype(np.int16)
        label = np.zeros(shape, np.uint8)
        label[8:24, 40:120, 40:120] = 1
        write_volume(folder / "imagesTr" / f"case{index:02d}_0000.nii.gz", image)
        write_volume(folder / "labelsTr" / f"case{index:02d}.nii.gz", label)
    description = {
        "channel_names": {"0": "CT"},
        "labels": {"background": 0, "organ": 1},
        "numTraining": num_cases,
        "file_ending": ".nii.gz",
    }
    (folder / "dataset.json").write_text(json.dumps(description))


def wait_for_workers(process: subprocess.Popen, count: int, timeout_s: float = 60.0) -> list:
    """The child processes of ``process`` once ``count`` of them run (the pool's workers)."""
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        children = parent.children(recursive=True)
        if len(children) >= count:
            return children
        time.sleep(0.02)
    pytest.fail(f"expected {count} worker processes within {timeout_s} s, found none")


def test_workers_die_when_the_parent_is_killed(roots):
    write_dataset(roots["raw"])
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPOSITORY)}
    command = "from samseg.cli.plan_and_preprocess import main; main(['-d', 'Toy', '-np', '2'])"
    process = subprocess.Popen(
        [sys.executable, "-c", command],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = []
    try:
        workers = wait_for_workers(process, count=2)
        assert process.poll() is None and all(w.is_running() for w in workers)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        _, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"orphan workers still running: {[w.pid for w in alive]}"
    finally:
        if process.poll() is None:
            process.kill()
        for worker in workers:
            if worker.is_running():
                worker.kill()
