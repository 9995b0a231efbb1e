"""ProMISe trainers: SAM's tensors never change, only APM/PaE parameters train, a short
training beats the untrained model, the checkpoint predicts through the network kind and the
predictor, label-sampled points, the loss's sigmoid modes, validation-only selection."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from samseg.errors import SamsegConfigError
from samseg.inference.model_loading import load_trained_network
from samseg.models.promise import ProMISeNetwork
from samseg.plans import Plans
from samseg.training.checkpoints import CHECKPOINT_BEST, CHECKPOINT_FINAL, load_checkpoint
from samseg.training.distributed import DistributedContext
from samseg.training.loop import validation_epoch
from samseg.training.promise import PADDING_LABEL, ProMISeLoss, label_points
from samseg.training.registry import trainer_class
from samseg.training.trainers.promise import (
    ProMISeIPSTrainer,
    ProMISeNoCacheTrainer,
    ProMISeTrainer,
)
from tests.training.engine.conftest import (
    CONFIGURATION,
    DATASET,
    NUM_CASES,
    engine_environment,
    prepare_dataset,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL = {
    "num_epochs": 1,
    "num_iterations_per_epoch": 2,
    "num_val_iterations_per_epoch": 2,
    "batch_size": 2,
    "model_type": "vit_tiny",
    "cnn_widths": (16, 16, 32, 32),
    "cnn_depths": (1, 1, 1, 1),
    "fusion_channels": 32,
    "pae_hidden": 64,
}


@pytest.fixture(scope="module")
def promise_roots(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return prepare_dataset(tmp_path_factory.mktemp("promise"), DATASET, NUM_CASES)


@pytest.fixture
def roots(promise_roots, tmp_path):
    with engine_environment({**promise_roots, "results": tmp_path / "results"}) as found:
        yield found


def make(roots: dict, cls, distributed: DistributedContext | None = None, **attributes):
    plans = Plans.load(roots["preprocessed"] / DATASET / "samsegPlans.json")
    cls = type(cls.__name__, (cls,), {**SMALL, **attributes})
    return cls(
        plans=plans,
        configuration=CONFIGURATION,
        fold=0,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        distributed=distributed,
        show_progress=False,
    )


def sam_hashes(state: dict[str, torch.Tensor]) -> dict[str, str]:
    """sha256 of every backbone tensor (parameters and buffers) of a ProMISe state dict."""
    return {
        name: hashlib.sha256(tensor.detach().contiguous().numpy().tobytes()).hexdigest()
        for name, tensor in state.items()
        if name.startswith("sam.")
    }


def validation_loss(trainer) -> float:
    trainer.network.eval()
    with trainer.make_loader(trainer.val_ids, 0, training=False) as batches:
        result = validation_epoch(
            trainer.validation_counts,
            batches,
            trainer.num_val_iterations_per_epoch,
            num_classes=3,
            device=trainer.device,
        )
    return result.mean_loss


def test_sam_tensors_stay_equal_through_steps_and_save_load(roots):
    trainer = make(roots, ProMISeNoCacheTrainer, model_type="litemedsam", num_workers=0)
    trainer.initialize()
    network = trainer.network
    before = sam_hashes(network.state_dict())
    assert any("running_mean" in name for name in before)  # TinyViT's batch-norm buffers
    sam_ids = {id(p) for p in network.sam.parameters()}
    optimised = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    assert {id(p) for p in optimised} == {id(p) for p in network.heads.parameters()}
    assert not sam_ids & {id(p) for p in optimised}
    assert not any(p.requires_grad for p in network.sam.parameters())
    heads = {k: v.clone() for k, v in network.heads.state_dict().items()}
    trainer.run_training()
    assert sam_hashes(network.state_dict()) == before
    assert any(not torch.equal(v, network.heads.state_dict()[k]) for k, v in heads.items())
    path = trainer.output_folder / CHECKPOINT_FINAL
    rebuilt = load_trained_network(path)
    assert sam_hashes(rebuilt.state_dict()) == before
    assert load_checkpoint(path)["network"]["kind"] == "promise"


def test_training_beats_the_untrained_model_and_predicts_through_the_kind(roots):
    trainer = make(
        roots,
        ProMISeTrainer,
        num_iterations_per_epoch=80,
        batch_size=4,
        initial_lr=1e-2,
        presence_head=False,
    )
    trainer.initialize()
    assert trainer.cache is not None and trainer.embedding_cache.return_blocks == (1, 3)
    untrained = validation_loss(trainer)
    trainer.run_training()
    trained = validation_loss(trainer)
    assert trained < untrained - 0.08, (untrained, trained)  # measured 1.545 -> 1.397
    folder = trainer.output_folder
    assert (folder / CHECKPOINT_BEST).is_file()
    network = load_trained_network(folder / CHECKPOINT_FINAL)
    assert isinstance(network, ProMISeNetwork) and network.num_classes == 3
    state = trainer.network.state_dict()
    for name, tensor in network.state_dict().items():
        assert torch.equal(state[name], tensor), name
    with torch.no_grad():
        embeddings = network.encode(255 * torch.rand(2, 3, 64, 64)).image_embeddings
        points = (torch.tensor([[[20.0, 24.0], [50.0, 10.0]]] * 2), torch.tensor([[1, 0]] * 2))
        boxes = torch.tensor([[8.0, 8.0, 40.0, 44.0]] * 2)
        plain = network.sam.predict_with_prompts(embeddings, points, boxes)
        assert torch.equal(
            network.predict_with_prompts(embeddings, points, boxes, use_ips=False).low_res_logits,
            plain.low_res_logits,
        )
        shifted = network.predict_with_prompts(
            embeddings, points, boxes, classes=torch.tensor([1, 0])
        )
        assert shifted.low_res_logits.shape == (2, 1, 16, 16)
        assert not torch.allclose(shifted.low_res_logits, plain.low_res_logits)
    summary = trainer.perform_validation(CHECKPOINT_BEST)
    assert summary is not None
    written = json.loads((folder / "validation" / "summary.json").read_text())
    predicted = {Path(case["prediction_file"]).name for case in written["metric_per_case"]}
    assert predicted == {f"{identifier}.nii.gz" for identifier in trainer.val_ids}


def test_validation_batches_come_from_the_folds_validation_cases_only(roots):
    trainer = make(roots, ProMISeTrainer)
    trainer.initialize()
    assert trainer.val_ids and not set(trainer.val_ids) & set(trainer.train_ids)
    keys = set()
    with trainer.make_loader(trainer.val_ids, 0, training=False) as batches:
        for _ in range(3):
            keys.update(next(batches).keys)
    assert keys <= set(trainer.val_ids)


def test_ips_alone_decodes_label_points_and_resumes_their_generator(roots):
    trainer = make(roots, ProMISeIPSTrainer)
    trainer.initialize()
    settings = trainer.network_spec.settings
    assert settings.apm is None and settings.ips and not settings.presence_head
    trainer.run_training()
    state = trainer.points_generator.get_state()
    assert not torch.equal(state, torch.Generator().manual_seed(trainer.seed).get_state())
    resumed = make(roots, ProMISeIPSTrainer)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    assert torch.equal(resumed.points_generator.get_state(), state)


def test_label_points_fall_in_their_class_and_pad_an_absent_one():
    target = torch.zeros(1, 16, 16, dtype=torch.int64)
    target[0, 2:6, 3:9] = 1
    target[0, 10:, 10:] = -100
    coordinates, labels = label_points(target, 2, 3, 2, np.random.default_rng(0))
    assert coordinates.shape == (1, 2, 5, 2) and labels[0, 0].tolist() == [1, 1, 1, 0, 0]
    x, y = coordinates[0, 0].long().unbind(-1)
    assert (target[0, y[:3], x[:3]] == 1).all()
    assert (target[0, y[3:], x[3:]] == 0).all()
    assert labels[0, 1].tolist() == [PADDING_LABEL] * 3 + [0, 0]


def test_one_sigmoid_reaches_zero_and_the_official_two_do_not():
    target = torch.zeros(1, 256, 256, dtype=torch.int64)
    target[0, :, :25] = 1
    target[0, :26, 25] = 1  # 6426 pixels: 9.8 % foreground
    logits = torch.where(target == 1, 20.0, -20.0).unsqueeze(1)
    assert float(ProMISeLoss()(logits, target)) < 1e-3
    legacy = float(ProMISeLoss(double_sigmoid=True)(logits, target))
    assert legacy == pytest.approx(1.42, abs=0.01)


def test_the_fixed_names_are_registered_and_take_litemedsam(roots):
    for name in ("ProMISeTrainer", "ProMISeAPMTrainer", "ProMISeIPSTrainer"):
        cls = trainer_class(name)
        trainer = make(roots, cls, model_type="litemedsam")
        assert trainer.network_spec.model_type == "litemedsam"
        if cls.apm is not None:
            assert trainer.network_spec.settings.blocks == (3, 9, 11)
    with pytest.raises(SamsegConfigError, match="expected one rank"):
        make(roots, ProMISeTrainer, distributed=DistributedContext(world_size=2))
    baseline = make(roots, trainer_class("ProMISeBinaryPerClassTrainer"))
    assert baseline.network_spec.settings.heads == 2
    assert baseline.network_spec.settings.presence_head
