"""Checkpoint files: atomic writes, weights-only loading, RNG state round trip."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.io.atomic import PARTIAL_MARKER
from samseg.training.checkpoints import (
    REQUIRED_KEYS,
    capture_rng_state,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


def minimal_checkpoint(value: float) -> dict:
    checkpoint = {key: {} for key in REQUIRED_KEYS}
    checkpoint["network_weights"] = {"weight": torch.full((2, 2), value)}
    checkpoint["network"] = {"kind": "sam_segmenter"}
    checkpoint["current_epoch"] = 3
    checkpoint["rng_state"] = capture_rng_state()
    return checkpoint


def draws() -> tuple:
    return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]


def test_rng_state_round_trip_through_a_weights_only_file(tmp_path):
    path = tmp_path / "checkpoint.pth"
    save_checkpoint(minimal_checkpoint(1.0), path)
    expected = draws()
    draws()
    restore_rng_state(torch.load(path, weights_only=True)["rng_state"])
    assert draws() == expected


def test_interrupted_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint_latest.pth"
    save_checkpoint(minimal_checkpoint(1.0), path)

    def crash(obj, target, *args, **kwargs):
        with open(target, "wb") as file:
            file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(minimal_checkpoint(2.0), path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["network_weights"]["weight"], torch.ones(2, 2))
    assert not [p for p in tmp_path.iterdir() if PARTIAL_MARKER in p.name]


def test_incomplete_checkpoints_are_refused(tmp_path):
    with pytest.raises(ValueError, match="rng_state"):
        save_checkpoint({"network_weights": {}}, tmp_path / "a.pth")
    torch.save({"network_weights": {}}, tmp_path / "b.pth")
    with pytest.raises(SamsegInputError, match="current_epoch"):
        load_checkpoint(tmp_path / "b.pth")
    with pytest.raises(SamsegInputError, match="no such file"):
        load_checkpoint(tmp_path / "c.pth")
