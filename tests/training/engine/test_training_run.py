"""A whole tiny training run: outputs, checkpoint contents, exact resume, validation only."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from samseg.cli.train import main
from samseg.models.spec import NetworkSpec
from samseg.plans import Plans
from samseg.training.checkpoints import CHECKPOINT_BEST, CHECKPOINT_FINAL, CHECKPOINT_LATEST
from samseg.training.registry import trainer_class
from samseg.training.run import TrainingRequest, train
from tests.training.engine.conftest import CONFIGURATION, DATASET, engine_environment

TINY = {"dataset": "Engine", "configuration": CONFIGURATION, "sam_checkpoint": "none"}


def make_trainer(roots: dict, name: str = "TinyTrainer", fold: int | str = 0):
    plans = Plans.load(roots["preprocessed"] / DATASET / "samsegPlans.json")
    cls = trainer_class(name)
    return cls(
        plans=plans,
        configuration=CONFIGURATION,
        fold=fold,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        show_progress=False,
    )


@pytest.fixture(scope="module")
def trained(engine_roots, tmp_path_factory):
    """TinyTrainer trained on fold 0 through the API, with the final validation (the tests
    of this module share it and leave it complete)."""
    results = tmp_path_factory.mktemp("trained") / "results"
    with engine_environment({**engine_roots, "results": results}) as roots:
        request = TrainingRequest(fold=0, trainer_name="TinyTrainer", device="cpu", **TINY)
        yield roots, train(request)


def test_training_writes_the_fold_folder(trained):
    roots, fold_folder = trained
    names = {path.name for path in fold_folder.iterdir()}
    assert {CHECKPOINT_FINAL, CHECKPOINT_BEST, "progress.png", "validation"} <= names
    assert CHECKPOINT_LATEST not in names
    assert any(name.startswith("training_log_") for name in names)
    assert {"plans.json", "dataset.json"} <= {p.name for p in fold_folder.parent.iterdir()}
    summary = json.loads((fold_folder / "validation" / "summary.json").read_text())
    splits = json.loads((roots["preprocessed"] / DATASET / "splits_final.json").read_text())
    assert [case["prediction_file"].split("/")[-1] for case in summary["metric_per_case"]] == [
        f"{identifier}.nii.gz" for identifier in splits[0]["val"]
    ]
    checkpoint = torch.load(fold_folder / CHECKPOINT_FINAL, weights_only=True)
    assert checkpoint["current_epoch"] == 2 and checkpoint["fold"] == 0
    assert checkpoint["trainer_name"] == "TinyTrainer"
    assert (checkpoint["plans_name"], checkpoint["configuration"]) == ("samsegPlans", "2d_64")
    spec = NetworkSpec.from_json(checkpoint["network"])
    assert (spec.model_type, spec.input_size, spec.num_classes) == ("vit_tiny", 64, 3)
    assert len(checkpoint["logging"]["train_losses"]) == 2
    assert json.loads(json.dumps(checkpoint["init_args"]))["sam_checkpoint"] == "none"
    assert json.dumps(checkpoint["rng_state"]["numpy"]) and json.dumps(checkpoint["logging"])
    spec.build().load_state_dict(checkpoint["network_weights"])


def test_continue_is_exact(trained):
    roots, fold_folder = trained
    straight = torch.load(fold_folder / CHECKPOINT_FINAL, weights_only=True)
    shutil.rmtree(fold_folder)
    first = make_trainer(roots)
    first.initialize()
    first.train_one_epoch()
    assert (fold_folder / CHECKPOINT_LATEST).is_file()
    resumed = make_trainer(roots)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(fold_folder / CHECKPOINT_LATEST)
    assert resumed.current_epoch == 1
    resumed.run_training()
    final = torch.load(fold_folder / CHECKPOINT_FINAL, weights_only=True)
    assert final["current_epoch"] == 2
    assert final["lr_scheduler_state"]["last_epoch"] == straight["lr_scheduler_state"]["last_epoch"]
    assert final["logging"]["train_losses"] == straight["logging"]["train_losses"]
    for name, tensor in straight["network_weights"].items():
        assert torch.equal(final["network_weights"][name], tensor), name
    for index, state in straight["optimizer_state"]["state"].items():
        torch.testing.assert_close(final["optimizer_state"]["state"][index], state, rtol=0, atol=0)


def test_validation_only_from_the_command_line(trained, capsys):
    _, fold_folder = trained
    shutil.rmtree(fold_folder / "validation", ignore_errors=True)
    main(["Engine", CONFIGURATION, "0", "-tr", "TinyTrainer", "--val", "-device", "cpu"])
    assert (fold_folder / "validation" / "summary.json").is_file()
    main(["Engine", CONFIGURATION, "0", "-tr", "TinyTrainer", "--val", "--val_best", "--npz"])
    assert list((fold_folder / "validation").glob("*.npz"))
    assert "results in" in capsys.readouterr().out


def test_lora_trainer_trains_only_lora_prompt_encoder_and_decoder(engine):
    trainer = make_trainer(engine, "TinyLoRATrainer")
    trainer.initialize()
    trainable = {name for name, p in trainer.network.named_parameters() if p.requires_grad}
    frozen = {name for name, p in trainer.network.named_parameters() if not p.requires_grad}
    encoder = {name for name in trainable if name.startswith("image_encoder.")}
    assert encoder and all(".lora_" in name for name in encoder)
    assert not any(".lora_" in name for name in frozen)
    assert all(name.startswith("image_encoder.") for name in frozen)
    for part in ("prompt_encoder.", "mask_decoder."):
        assert any(name.startswith(part) for name in trainable)
    optimised = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in trainer.network.parameters() if p.requires_grad}
    assert trainer.network_spec.lora.targets == ("q", "v")


def test_unknown_trainer_and_missing_sam_weights_are_clear_errors(engine, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_info:
        main(["Engine", CONFIGURATION, "0", "-tr", "NoSuchTrainer"])
    assert exit_info.value.code == 2
    assert "SAMLoRATrainer" in capsys.readouterr().err
    monkeypatch.delenv("SAMSEG_sam_checkpoints", raising=False)
    with pytest.raises(SystemExit):
        main(["Engine", CONFIGURATION, "0", "-tr", "SAMLoRATrainer", "--model-type", "vit_b"])
    error = capsys.readouterr().err
    assert "sam_vit_b_01ec64.pth" in error and "--sam_checkpoint none" in error
