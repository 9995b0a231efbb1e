"""A tiny dataset with test labels for the comparison tests: the engine dataset's three
training cases (box and disc), two test cases, and a 128-pixel vit_tiny configuration (at 64
pixels the disc covers no token of the encoder grid, which P²SAM needs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from samseg.comparison import ComparisonRequest, TrainingBudget
from tests.conftest import write_volume
from tests.training.engine.conftest import TRAINERS_FOLDER, engine_case, prepare_dataset

DATASET = "Dataset043_Compare"
CONFIGURATION = "2d_128"
TEST_CASES = ("test10", "test11")


@pytest.fixture(scope="session")
def compare_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Raw and preprocessed roots of :data:`DATASET`, planned once per session."""
    roots = prepare_dataset(tmp_path_factory.mktemp("compare"), DATASET, 3)
    plans_file = roots["preprocessed"] / DATASET / "samsegPlans.json"
    plans = json.loads(plans_file.read_text())
    base = plans["configurations"]["2d_64"]
    plans["configurations"][CONFIGURATION] = {**base, "input_size": 128, "zoom": base["zoom"] * 2}
    plans_file.write_text(json.dumps(plans, indent=2))
    for case in TEST_CASES:
        image, label = engine_case(int(case[-2:]))
        write_volume(roots["raw"] / DATASET / "imagesTs" / f"{case}_0000.nii.gz", image)
        write_volume(roots["raw"] / DATASET / "labelsTs" / f"{case}.nii.gz", label)
    return roots


@pytest.fixture
def compare_env(compare_roots, tmp_path, monkeypatch) -> Iterator[dict[str, Path]]:
    """The dataset's roots, a fresh results root, the tiny trainers registered, one thread."""
    roots = {**compare_roots, "results": tmp_path / "results"}
    for name in ("raw", "preprocessed", "results"):
        monkeypatch.setenv(f"SAMSEG_{name}", str(roots[name]))
        monkeypatch.delenv(f"nnUNet_{name}", raising=False)
    monkeypatch.setenv("SAMSEG_extTrainer", str(TRAINERS_FOLDER))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield {**roots, "report": tmp_path / "report"}
    torch.set_num_threads(previous)


def tiny_request(report: Path, **changes: object) -> ComparisonRequest:
    """A comparison of the tiny trainer and P²SAM on :data:`DATASET`, 2 iterations, random
    weights, on the CPU; ``changes`` override fields."""
    values = dict(
        dataset=DATASET,
        configuration=CONFIGURATION,
        trainers=("TinyTrainer",),
        adaptors=("p2sam",),
        output_folder=report,
        budget=TrainingBudget(iterations=2),
        sam_checkpoint="none",
        device="cpu",
    )
    return ComparisonRequest(**{**values, **changes})
