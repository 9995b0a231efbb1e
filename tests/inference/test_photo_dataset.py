"""A photo dataset end to end: convert -> plan -> preprocess -> train 2 steps -> PNG -> Dice."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from samseg.cli.evaluate import main as evaluate
from samseg.cli.predict import main as predict
from samseg.conversion.image_folder import convert_image_folder
from samseg.planning.workflow import plan_and_preprocess
from samseg.training.run import TrainingRequest, train

TRAINERS = Path(__file__).with_name("photo_trainers")
DATASET = "Dataset071_Photos"
SHAPE = (36, 44)


def write_photos(images: Path, masks: Path, count: int) -> None:
    """``count`` JPEG photos of a red disc on a noisy grey background, with 0/255 PNG masks."""
    images.mkdir()
    masks.mkdir()
    rows, columns = np.mgrid[: SHAPE[0], : SHAPE[1]]
    for index in range(count):
        rng = np.random.default_rng(index)
        centre = rng.integers(12, 24, 2)
        disc = (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= 8**2
        photo = rng.integers(60, 90, (*SHAPE, 3), dtype=np.uint8)
        photo[disc] = (200, 40, 40)
        iio.imwrite(images / f"photo{index}.jpg", photo)
        iio.imwrite(masks / f"photo{index}.png", disc.astype(np.uint8) * 255)


@pytest.fixture
def photo_roots(tmp_path, monkeypatch):
    roots = {name: tmp_path / name for name in ("raw", "preprocessed", "results")}
    for name, path in roots.items():
        monkeypatch.setenv(f"SAMSEG_{name}", str(path))
        monkeypatch.delenv(f"nnUNet_{name}", raising=False)
    monkeypatch.setenv("SAMSEG_extTrainer", str(TRAINERS))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return roots


def test_photo_dataset_trains_and_predicts_png_of_the_input_size(photo_roots, tmp_path):
    write_photos(tmp_path / "images", tmp_path / "masks", 6)
    (tmp_path / "test.txt").write_text("photo5\n")
    folders = (tmp_path / "images", tmp_path / "masks", photo_roots["raw"])
    split = {"test_list": tmp_path / "test.txt", "progress": False}
    convert_image_folder(*folders, dataset_id=71, name="Photos", **split)
    plan_and_preprocess(DATASET, planner_name="DemoTinyPlanner", num_processes=1)
    plans = json.loads((photo_roots["preprocessed"] / DATASET / "samsegDemoPlans.json").read_text())
    assert plans["image_reader_writer"] == "NaturalImage2DIO"
    assert [n["scheme"] for n in plans["normalization"]] == ["RGBNormalization"] * 3
    request = TrainingRequest(
        dataset=DATASET,
        configuration="2d_128",
        fold=0,
        trainer_name="PhotoTinyTrainer",
        plans_name="samsegDemoPlans",
        device="cpu",
        sam_checkpoint="none",
        show_progress=False,
    )
    fold_folder = train(request)
    assert list((fold_folder / "validation").glob("*.png"))
    raw = photo_roots["raw"] / DATASET
    output = tmp_path / "predictions"
    predict(
        [
            *("-i", str(raw / "imagesTs"), "-o", str(output), "-d", DATASET, "-c", "2d_128"),
            *("-tr", "PhotoTinyTrainer", "-p", "samsegDemoPlans", "-f", "0", "-device", "cpu"),
            "--disable_tta",
        ]
    )
    written = iio.imread(output / "photo5.png")
    assert written.shape == SHAPE and written.dtype == np.uint8
    assert set(np.unique(written)) <= {0, 1}
    evaluate(["-ref", str(raw / "labelsTs"), "-pred", str(output), "-d", DATASET])
    summary = json.loads((output / "summary.json").read_text())
    (case,) = summary["metric_per_case"]
    assert case["prediction_file"].endswith("photo5.png")
    assert 0.0 <= case["metrics"]["1"]["Dice"] <= 1.0
