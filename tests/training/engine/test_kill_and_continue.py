"""A run killed with SIGKILL in the middle of an epoch continues with --c to the planned end,
with the weights of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from samseg.training.checkpoints import CHECKPOINT_BEST, CHECKPOINT_FINAL, CHECKPOINT_LATEST
from tests.training.engine.conftest import (
    CONFIGURATION,
    engine_environment,
    make_engine_trainer,
)

COMMAND = [
    "-c",
    "from samseg.cli.train import main; main()",
    "Engine",
    CONFIGURATION,
    "0",
    "-tr",
    "SlowTinyTrainer",
    "--sam-checkpoint",
    "none",
    "-device",
    "cpu",
]


def wait_for(condition, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"training ended early with {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the training run")
        time.sleep(0.05)


def log_text(fold_folder: Path) -> str:
    return "".join(p.read_text() for p in sorted(fold_folder.glob("training_log_*.txt")))


def uninterrupted_weights(roots: dict[str, Path]) -> dict[str, torch.Tensor]:
    """Final weights of SlowTinyTrainer trained in one go (in this process, no validation)."""
    with engine_environment(roots):
        trainer = make_engine_trainer(roots, "SlowTinyTrainer")
        trainer.initialize()
        trainer.run_training()
        final = torch.load(trainer.output_folder / CHECKPOINT_FINAL, weights_only=True)
    return final["network_weights"]


def test_sigkill_mid_epoch_then_continue(engine):
    fold_folder = engine["results"] / "Dataset042_Engine" / "SlowTinyTrainer__samsegPlans__2d_64"
    fold_folder = fold_folder / "fold_0"
    process = subprocess.Popen(
        [sys.executable, *COMMAND],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: (fold_folder / CHECKPOINT_LATEST).is_file(), process)
        wait_for(lambda: "Epoch 1 of 3 started" in log_text(fold_folder), process)
        time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert "Epoch 1:" not in log_text(fold_folder), "killed too late: epoch 1 had finished"
    assert torch.load(fold_folder / CHECKPOINT_LATEST, weights_only=True)["current_epoch"] == 1

    subprocess.run([sys.executable, *COMMAND, "--c"], check=True, timeout=300)

    final = torch.load(fold_folder / CHECKPOINT_FINAL, weights_only=True)
    assert final["current_epoch"] == 3
    assert len(final["logging"]["train_losses"]) == 3
    assert torch.load(fold_folder / CHECKPOINT_BEST, weights_only=True)["current_epoch"] >= 1
    assert not (fold_folder / CHECKPOINT_LATEST).exists()
    assert "continuing from" in log_text(fold_folder)
    assert (fold_folder / "validation" / "summary.json").is_file()
    expected = uninterrupted_weights({**engine, "results": engine["results"].parent / "straight"})
    for name, tensor in expected.items():
        assert torch.equal(final["network_weights"][name], tensor), name
