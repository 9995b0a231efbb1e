"""A prediction run killed mid-way and continued ends with the outputs of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.cli.predict import main
from tests.inference.helpers import blocky_case, write_image

NUM_CASES = 6
STARTUP_TIMEOUT_S = 120


def segmentations(folder: Path) -> list[Path]:
    """Finished segmentation files in ``folder`` (not the hidden temporary ones)."""
    return [p for p in folder.glob("*.nii.gz") if not p.name.startswith(".")]


def outputs(folder: Path) -> dict[str, np.ndarray]:
    """Every segmentation and probability array in ``folder``, by file name."""
    arrays = {p.name: sitk.GetArrayFromImage(sitk.ReadImage(str(p))) for p in segmentations(folder)}
    arrays.update({p.name: np.load(p)["probabilities"] for p in folder.glob("[!.]*.npz")})
    return arrays


def test_continue_after_sigkill_matches_an_uninterrupted_run(trained_model, tmp_path):
    images = tmp_path / "images"
    for index in range(NUM_CASES):
        image, _ = blocky_case((6, 40, 70), seed=index)
        write_image(images / f"case{index}_0000.nii.gz", image, (3.0, 0.8, 0.8))
    arguments = ["-m", str(trained_model.folder), "-f", "0", "-device", "cpu"]
    arguments += ["--save_probabilities"]
    killed = tmp_path / "killed"
    command = [sys.executable, "-c", "from samseg.cli.predict import main; main()"]
    process = subprocess.Popen(
        [*command, "-i", str(images), "-o", str(killed), *arguments],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not segmentations(killed) and process.poll() is None:
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run ended before it could be killed"
    assert 1 <= len(segmentations(killed)) < NUM_CASES

    main(["-i", str(images), "-o", str(killed), *arguments, "--continue_prediction"])
    uninterrupted = tmp_path / "uninterrupted"
    main(["-i", str(images), "-o", str(uninterrupted), *arguments])

    assert not [p.name for p in killed.iterdir() if ".partial." in p.name]
    expected, found = outputs(uninterrupted), outputs(killed)
    assert sorted(found) == sorted(expected)
    assert len(expected) == 2 * NUM_CASES
    for name, array in expected.items():
        assert found[name].dtype == array.dtype
        assert found[name].tobytes() == array.tobytes(), name
