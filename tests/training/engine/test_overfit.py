"""Learning happens: vit_tiny from scratch learns one synthetic case (Dice > 0.9 on it)."""

from __future__ import annotations

import json

from samseg.training.run import TrainingRequest, train
from tests.training.engine.conftest import CONFIGURATION, engine_environment, prepare_dataset


def test_overfit_one_case(tmp_path):
    roots = prepare_dataset(tmp_path, "Dataset043_One", num_cases=1)
    with engine_environment({**roots, "results": tmp_path / "results"}):
        request = TrainingRequest(
            dataset="One",
            configuration=CONFIGURATION,
            fold="all",
            trainer_name="OverfitTrainer",
            sam_checkpoint="none",
            device="cpu",
            show_progress=False,
        )
        fold_folder = train(request)
    summary = json.loads((fold_folder / "validation" / "summary.json").read_text())
    assert summary["foreground_mean"]["Dice"] > 0.9, summary["mean"]
