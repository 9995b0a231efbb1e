"""A small preprocessed dataset with a 64-pixel vit_tiny configuration, and tiny trainers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from samseg.planning.workflow import plan_and_preprocess
from tests.conftest import write_volume

TRAINERS_FOLDER = Path(__file__).with_name("trainers")
DATASET = "Dataset042_Engine"
CONFIGURATION = "2d_64"
NUM_CASES = 3


def engine_case(seed: int, shape=(6, 64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """A (z, y, x) CT-like volume with a bright box (1) and a dark disc (2), and its label."""
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 8, shape).astype(np.int16)
    label = np.zeros(shape, np.uint8)
    y0, x0 = rng.integers(6, 14, 2)
    label[:, y0 : y0 + 22, x0 : x0 + 18] = 1
    rows, columns = np.mgrid[: shape[1], : shape[2]]
    cy, cx = rng.integers(40, 50, 2)
    label[1:-1][:, (rows - cy) ** 2 + (columns - cx) ** 2 <= 9**2] = 2
    image[label == 1] += 120
    image[label == 2] -= 70
    return image, label


def write_engine_dataset(raw: Path, dataset: str = DATASET, num_cases: int = NUM_CASES) -> None:
    folder = raw / dataset
    for index in range(num_cases):
        image, label = engine_case(index)
        write_volume(folder / "imagesTr" / f"case{index:02d}_0000.nii.gz", image)
        write_volume(folder / "labelsTr" / f"case{index:02d}.nii.gz", label)
    description = {
        "channel_names": {"0": "CT"},
        "labels": {"background": 0, "box": 1, "disc": 2},
        "numTraining": num_cases,
        "file_ending": ".nii.gz",
    }
    (folder / "dataset.json").write_text(json.dumps(description))


def add_tiny_configuration(plans_file: Path) -> None:
    """Add ``2d_64`` (vit_tiny, batch 2) to the plans, as a user would edit them: the zoom
    scaled with the input size, so the frame covers what the planned one covers."""
    plans = json.loads(plans_file.read_text())
    base = next(iter(plans["configurations"].values()))
    plans["configurations"][CONFIGURATION] = {
        **base,
        "input_size": 64,
        "batch_size": 2,
        "model_type": "vit_tiny",
        "zoom": base["zoom"] * 64 / base["input_size"],
    }
    plans_file.write_text(json.dumps(plans, indent=2))


def prepare_dataset(base: Path, dataset: str, num_cases: int) -> dict[str, Path]:
    """Write, plan and preprocess ``dataset`` under ``base``; add the 2d_64 configuration."""
    roots = {name: base / name for name in ("raw", "preprocessed")}
    write_engine_dataset(roots["raw"], dataset, num_cases)
    with pytest.MonkeyPatch.context() as patch:
        for name, path in roots.items():
            patch.setenv(f"SAMSEG_{name}", str(path))
        plan_and_preprocess(dataset, num_processes=1)
    add_tiny_configuration(roots["preprocessed"] / dataset / "samsegPlans.json")
    return roots


def make_engine_trainer(roots: dict[str, Path], name: str):
    """Trainer ``name`` on fold 0 of the engine dataset, on the CPU, from random weights."""
    import torch

    from samseg.plans import Plans
    from samseg.training.registry import trainer_class

    plans = Plans.load(roots["preprocessed"] / DATASET / "samsegPlans.json")
    return trainer_class(name)(
        plans=plans,
        configuration=CONFIGURATION,
        fold=0,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        show_progress=False,
    )


@pytest.fixture(scope="session")
def engine_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Raw and preprocessed roots holding Dataset042_Engine, planned and preprocessed once."""
    return prepare_dataset(tmp_path_factory.mktemp("engine"), DATASET, NUM_CASES)


@contextmanager
def engine_environment(roots: dict[str, Path]) -> Iterator[dict[str, Path]]:
    """Point the SAMSEG_* roots at ``roots`` and register the tiny trainers, for a while."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("raw", "preprocessed", "results"):
            patch.setenv(f"SAMSEG_{name}", str(roots[name]))
            patch.delenv(f"nnUNet_{name}", raising=False)
        patch.setenv("SAMSEG_extTrainer", str(TRAINERS_FOLDER))
        yield roots


@pytest.fixture
def engine(engine_roots, tmp_path) -> Iterator[dict[str, Path]]:
    """The engine dataset's roots, a fresh results root and the tiny trainers registered."""
    with engine_environment({**engine_roots, "results": tmp_path / "results"}) as roots:
        yield roots
