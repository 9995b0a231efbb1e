"""--c is exact with a trainer that draws random numbers; which checkpoint --c takes; what it
refuses."""

from __future__ import annotations

import shutil

import pytest
import torch

from samseg.cli.train import main
from samseg.training.checkpoints import (
    CHECKPOINT_BEST,
    CHECKPOINT_FINAL,
    CHECKPOINT_LATEST,
    load_checkpoint,
    resume_checkpoint,
    save_checkpoint,
)
from tests.training.engine.conftest import CONFIGURATION, make_engine_trainer

RANDOM_TRAINER = "RandomDrawsTinyTrainer"


def make_trainer(roots: dict, name: str = RANDOM_TRAINER):
    return make_engine_trainer(roots, name)


def test_continue_restores_the_torch_numpy_and_python_generators(engine):
    straight = make_trainer(engine)
    straight.initialize()
    straight.run_training()
    fold_folder = straight.output_folder
    expected = load_checkpoint(fold_folder / CHECKPOINT_FINAL)
    shutil.rmtree(fold_folder)

    first = make_trainer(engine)
    first.initialize()
    first.train_one_epoch()
    resumed = make_trainer(engine)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(fold_folder / CHECKPOINT_LATEST)
    resumed.run_training()

    found = load_checkpoint(fold_folder / CHECKPOINT_FINAL)
    assert found["logging"]["train_losses"] == expected["logging"]["train_losses"]
    for name, tensor in expected["network_weights"].items():
        assert torch.equal(found["network_weights"][name], tensor), name


@pytest.mark.parametrize(
    ("present", "chosen"),
    [
        ((CHECKPOINT_FINAL, CHECKPOINT_LATEST, CHECKPOINT_BEST), CHECKPOINT_FINAL),
        ((CHECKPOINT_LATEST, CHECKPOINT_BEST), CHECKPOINT_LATEST),
        ((CHECKPOINT_BEST,), CHECKPOINT_BEST),
        ((), None),
    ],
)
def test_continue_takes_final_then_latest_then_best(tmp_path, present, chosen):
    for name in present:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "checkpoint_other.pth").write_bytes(b"")
    expected = None if chosen is None else tmp_path / chosen
    assert resume_checkpoint(tmp_path) == expected


@pytest.mark.parametrize(
    ("entry", "value", "message"),
    [
        ("network", "input_size", "expected a checkpoint of the network"),
        ("trainer_name", "TinyLoRATrainer", "expected a checkpoint of RandomDrawsTinyTrainer"),
    ],
)
def test_continue_refuses_another_networks_or_trainers_checkpoint(
    engine, capsys, entry, value, message
):
    trainer = make_trainer(engine)
    trainer.initialize()
    state = trainer.checkpoint_state()
    if entry == "network":
        state["network"] = {**state["network"], value: 2 * state["network"][value]}
    else:
        state[entry] = value
    path = trainer.output_folder / CHECKPOINT_LATEST
    save_checkpoint(state, path)
    before = path.read_bytes()
    arguments = ["Engine", CONFIGURATION, "0", "-tr", RANDOM_TRAINER, "-device", "cpu", "--c"]
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--sam-checkpoint", "none"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert str(path) in error and message in error
    assert path.read_bytes() == before
    assert not (trainer.output_folder / CHECKPOINT_FINAL).exists()
