"""A trainer's checkpoints: current format version, network kind, the mirroring axes its
augmentation flipped; a version 1 checkpoint of the same network still continues."""

from __future__ import annotations

from dataclasses import replace

import torch

from samseg.inference.model_loading import read_trained_checkpoint
from samseg.training.checkpoints import CHECKPOINT_LATEST, save_checkpoint
from samseg.training.data import AugmentationSettings
from tests.training.engine.test_exactness import make_trainer


def test_a_trainer_records_its_mirroring_axes_and_continues_from_a_version_1_file(engine):
    trainer = make_trainer(engine)
    trainer.augmentation = replace(AugmentationSettings(), mirror_axes=(1,))
    trainer.initialize()
    path = trainer.output_folder / CHECKPOINT_LATEST
    save_checkpoint(trainer.checkpoint_state(), path)
    checkpoint = read_trained_checkpoint(path)
    assert checkpoint.format_version == 2 and checkpoint.network.kind == "sam_segmenter"
    assert checkpoint.allowed_mirroring_axes == (1,)

    old = dict(checkpoint.content)
    del old["format_version"], old["inference_allowed_mirroring_axes"]
    old["network"] = {k: v for k, v in old["network"].items() if k != "kind"}
    torch.save(old, path)
    resumed = make_trainer(engine)
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(path)
    assert resumed.current_epoch == checkpoint.content["current_epoch"]
