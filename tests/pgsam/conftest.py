"""PG-SAM test fixtures: a tiny randomly initialised CLIP text model and tokenizer saved with
``save_pretrained`` (so the real loading code runs), class descriptions, one torch thread."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from samseg.models.pgsam import ClassDescriptions
from samseg.models.pgsam.random_clip import write_random_clip

SHAPES_DATASET = "Dataset044_Shapes"
CLIP_LENGTH = 24
"""Tokens per text of the tiny CLIP (the real one has 77)."""

SHAPE_DESCRIPTIONS = ClassDescriptions(
    ("background", "box", "disc"),
    (
        "uniform grey tissue everywhere outside the two objects",
        "a large bright rectangle in the upper left part",
        "a small dark round disc in the lower right part",
    ),
    "tests",
)


@pytest.fixture(autouse=True)
def _one_thread_per_test(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (``one_torch_thread``, tests/conftest.py)."""


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A random 2-layer CLIP text model (width 32, projection 16, 24 tokens) in ``folder``."""
    return write_random_clip(folder, max_length=CLIP_LENGTH, seed=seed)


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the tiny CLIP text model and its tokenizer."""
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny_clip")


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[[int], Path]:
    """Factory: another tiny CLIP, seeded, in this test's folder."""
    return lambda seed: save_tiny_clip(tmp_path / f"clip_{seed}", seed)


def shapes_case(seed: int, shape=(6, 64, 64)) -> tuple[np.ndarray, np.ndarray]:
    """A (z, y, x) CT-like volume with a bright box (1) upper left and a dark disc (2) lower
    right, both large (the tiny network sees a 4 x 4 embedding grid), and its label."""
    rng = np.random.default_rng(seed)
    image = rng.normal(40, 8, shape).astype(np.int16)
    label = np.zeros(shape, np.uint8)
    y0, x0 = rng.integers(4, 10, 2)
    label[:, y0 : y0 + 26, x0 : x0 + 24] = 1
    rows, columns = np.mgrid[: shape[1], : shape[2]]
    cy, cx = rng.integers(42, 48, 2)
    label[:, (rows - cy) ** 2 + (columns - cx) ** 2 <= 13**2] = 2
    image[label == 1] += 120
    image[label == 2] -= 70
    return image, label


@pytest.fixture(scope="session")
def shapes_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Raw and preprocessed roots of Dataset044_Shapes (3 cases, labels background, box,
    disc), planned and preprocessed once, with the engine tests' 64-pixel configuration."""
    from samseg.planning.workflow import plan_and_preprocess
    from tests.conftest import write_volume
    from tests.training.engine.conftest import add_tiny_configuration

    base = tmp_path_factory.mktemp("shapes")
    roots = {name: base / name for name in ("raw", "preprocessed")}
    folder = roots["raw"] / SHAPES_DATASET
    for index in range(3):
        image, label = shapes_case(index)
        write_volume(folder / "imagesTr" / f"case{index:02d}_0000.nii.gz", image)
        write_volume(folder / "labelsTr" / f"case{index:02d}.nii.gz", label)
    labels = {name: value for value, name in enumerate(SHAPE_DESCRIPTIONS.names)}
    description = {
        "channel_names": {"0": "CT"},
        "labels": labels,
        "numTraining": 3,
        "file_ending": ".nii.gz",
    }
    (folder / "dataset.json").write_text(json.dumps(description))
    with pytest.MonkeyPatch.context() as patch:
        for name, path in roots.items():
            patch.setenv(f"SAMSEG_{name}", str(path))
        plan_and_preprocess(SHAPES_DATASET, num_processes=1)
    add_tiny_configuration(roots["preprocessed"] / SHAPES_DATASET / "samsegPlans.json")
    return roots
