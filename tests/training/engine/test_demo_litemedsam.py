"""The README demo: scripts/demo.sh names a planner, configuration and trainer that fit each
other, and SAMDemoLiteMedSAMTrainer trains the frozen LiteMedSAM's decoder in bf16 on the CPU."""

from __future__ import annotations

import shlex
from pathlib import Path

import torch

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.planning import planner_class
from samseg.plans import Plans
from samseg.slice_frame import SliceFrame
from samseg.training.registry import trainer_class
from tests.training.engine.conftest import DATASET

DEMO_SCRIPT = Path(__file__).parents[3] / "scripts" / "demo.sh"

DEMO_SHAPES = [[16, 102, 107], [25, 103, 116], [28, 104, 109], [30, 96, 103], [29, 112, 128]]
"""Cropped (z, y, x) shapes of demo cases; the spacings below are the demo's (5 mm slices)."""

DEMO_SPACINGS = [
    [5.0, 2.946, 2.946],
    [5.0, 2.814, 2.814],
    [5.0, 3.035, 3.035],
    [5.0, 3.194, 3.194],
    [5.0, 2.591, 2.591],
]


def demo_commands() -> dict[str, list[str]]:
    """The samseg commands of scripts/demo.sh, by command name (continuation lines joined)."""
    text = DEMO_SCRIPT.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) > 1 and words[0] == "run" and words[1].startswith("samseg_"):
            commands[words[1]] = words[2:]
    return commands


def option(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]


def demo_fingerprint() -> dict:
    stats = {"mean": 127.0, "median": 116.0, "std": 39.0, "min": -160.0, "max": 314.0}
    stats |= {"percentile_00_5": 59.0, "percentile_99_5": 254.0}
    return {
        "spacings": DEMO_SPACINGS,
        "shapes_after_crop": DEMO_SHAPES,
        "foreground_intensity_properties_per_channel": {"0": stats},
    }


def test_demo_script_plans_trains_and_predicts_one_litemedsam_configuration():
    commands = demo_commands()
    planner = planner_class(option(commands["samseg_plan_and_preprocess"], "-pl"))
    labels = LabelScheme.from_json({"background": 0, "liver": 1}, None, "dataset.json")
    description = DatasetDescription(("CT",), labels, ".nii.gz", num_training=5)
    plans = planner("Dataset001_Demo", description, demo_fingerprint()).plan()

    train = commands["samseg_train"]
    configuration_name, trainer_name = train[1], option(train, "-tr")
    assert option(train, "-p") == plans.plans_name
    assert "--sam_checkpoint" not in train  # starts from the installed pretrained weights
    configuration = plans.configuration(configuration_name)
    trainer = trainer_class(trainer_name)
    assert configuration.model_type == trainer.model_type == "litemedsam"
    assert trainer.embedding_cache is not None and trainer.freezing_policy == "decoder"
    assert configuration.context_slices == 0
    target = plans.in_plane_target_spacing[0]
    resampled = [
        tuple(round(side * spacing[1] / target) for side in shape[1:])
        for shape, spacing in zip(DEMO_SHAPES, DEMO_SPACINGS, strict=True)
    ]
    frames = [SliceFrame.for_configuration(shape, configuration) for shape in resampled]
    assert all(frame.tiles_per_slice == 1 for frame in frames)

    predict = commands["samseg_predict"]
    assert option(predict, "-c") == configuration_name
    assert option(predict, "-tr") == trainer_name
    assert option(predict, "-p") == plans.plans_name


def test_demo_litemedsam_trainer_computes_in_bf16_on_the_cpu(engine):
    plans = Plans.load(engine["preprocessed"] / DATASET / "samsegPlans.json")
    trainer = trainer_class("SAMDemoLiteMedSAMTrainer")(
        plans=plans,
        configuration="2d_64",
        fold=0,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        show_progress=False,
    )
    assert trainer.mixed.precision == "bf16" and not trainer.mixed.use_grad_scaler
    trainer.initialize()
    assert trainer.network.precision == "bf16"
    assert trainer.network_spec.model_type == "litemedsam"
    assert "bf16 autocast" in trainer.log.path.read_text(encoding="utf-8")
