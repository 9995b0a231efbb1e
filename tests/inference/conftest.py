"""Fixtures: a tiny raw test set and a model folder of untrained vit_tiny networks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from samseg.dataset import DatasetDescription
from samseg.io import write_json
from samseg.models import LoraSettings
from samseg.models.checkpoint_format import stamped_content
from samseg.models.spec import NetworkSpec
from samseg.paths import model_folder
from samseg.plans import Plans
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

DATASET = "Dataset950_Inference"
TRAINER = "SAMLoRATrainer"
CONFIGURATION = "2d_64"


@pytest.fixture(autouse=True)
def _one_thread_per_test(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (``one_torch_thread``, tests/conftest.py)."""


@dataclass(frozen=True)
class TrainedModel:
    """A model folder written in the training engine's format."""

    folder: Path
    plans: Plans
    description: DatasetDescription


def write_model_folder(
    folder: Path, plans: Plans, description: DatasetDescription, folds: Sequence[int | str]
) -> TrainedModel:
    """A model folder in the training engine's format: plans.json, dataset.json and per fold
    a current-format checkpoint (mirroring along both axes allowed) of a vit_tiny network at
    the plans' input size (LoRA on q and v, seeded random weights)."""
    [(name, configuration)] = plans.configurations.items()
    spec = NetworkSpec(
        model_type="vit_tiny",
        input_size=configuration.input_size,
        num_classes=plans.label_handling.num_classes,
        lora=LoraSettings(rank=2, targets=("q", "v")),
    )
    folder.mkdir(parents=True)
    plans.save(folder / "plans.json")
    write_json(description.to_json(), folder / "dataset.json")
    for index, fold in enumerate(folds):
        torch.manual_seed(index)
        network = spec.build()
        with torch.no_grad():
            for parameter in network.parameters():
                parameter.add_(0.05 * torch.randn_like(parameter))
        (folder / f"fold_{fold}").mkdir()
        path = folder / f"fold_{fold}" / "checkpoint_final.pth"
        content = {
            "network_weights": network.state_dict(),
            "network": spec.to_json(),
            "inference_allowed_mirroring_axes": [0, 1],
            "trainer_name": TRAINER,
            "configuration": name,
            "plans_name": plans.plans_name,
            "current_epoch": 1,
            "optimizer_state": {},
        }
        torch.save(stamped_content(content, str(path)), path)
    return TrainedModel(folder, plans, description)


@pytest.fixture
def trained_model(roots) -> TrainedModel:
    """``RESULTS/Dataset950_Inference/SAMLoRATrainer__samsegPlans__2d_64``, folds 0 and 1:
    vit_tiny at 64 px, 4 classes, sliding window."""
    plans = make_plans(input_size=64, large_slice_handling="sliding_window", batch_size=4)
    folder = model_folder(DATASET, TRAINER, "samsegPlans", CONFIGURATION)
    return write_model_folder(folder, plans, make_description(plans), (0, 1))


@pytest.fixture
def test_images(tmp_path) -> Path:
    """``imagesTs`` with three single-channel cases of different shapes (RAS-stored)."""
    folder = tmp_path / "imagesTs"
    for index, shape in enumerate([(5, 40, 90), (4, 36, 44), (6, 70, 50)]):
        image, _ = blocky_case(shape, seed=index)
        write_image(folder / f"case{index}_0000.nii.gz", image, (3.0, 0.8, 0.8))
    return folder
