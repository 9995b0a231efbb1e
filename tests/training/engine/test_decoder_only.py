"""SAMDecoderOnlyTrainer: trains a tiny vit decoder from the embedding cache, beats chance on
the validation cases predicted from raw images, keeps the encoder bit-identical, reuses the
cache on a second run and builds another when the encoder weights change."""

from __future__ import annotations

import shutil

import torch

from samseg.training.cache.key import CACHE_ROOT_NAME, KEY_FILE
from samseg.training.checkpoints import CHECKPOINT_FINAL, CHECKPOINT_LATEST, load_checkpoint
from tests.training.engine.conftest import DATASET, make_engine_trainer

CHANCE_DICE = 0.25
"""Foreground Dice of a guess: the box covers ~10 % of a slice, the disc ~6 %."""


def make_trainer(roots: dict, name: str = "TinyDecoderOnlyTrainer"):
    return make_engine_trainer(roots, name)


def cache_folders(roots: dict) -> list:
    root = roots["preprocessed"] / DATASET / CACHE_ROOT_NAME
    return sorted(path.parent for path in root.glob(f"*/{KEY_FILE}"))


def encoder_state(network) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in network.image_encoder.state_dict().items()}


def test_decoder_only_trains_from_the_cache_and_predicts_from_images(engine):
    shutil.rmtree(engine["preprocessed"] / DATASET / CACHE_ROOT_NAME, ignore_errors=True)
    trainer = make_trainer(engine)
    trainer.initialize()
    before = encoder_state(trainer.network)
    trainer.run_training()
    log = (trainer.log.path).read_text()
    assert "augmentations switched off" in log and "rotation" in log and "mirroring" in log
    assert "3 cases" in log and "0 cases reused" in log
    final = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    for name, tensor in before.items():
        assert torch.equal(final["network_weights"][f"image_encoder.{name}"], tensor), name
    assert final["inference_allowed_mirroring_axes"] == []
    summary = trainer.perform_validation()
    assert summary.foreground_mean["Dice"] > CHANCE_DICE
    assert len(cache_folders(engine)) == 1

    again = make_trainer(engine)
    again.initialize()
    again.train_one_epoch()
    assert "0 cases (0 views) encoded" in again.log.path.read_text()
    other = make_trainer(engine, "TinyDecoderOnlyReseededTrainer")
    other.initialize()
    other.run_training()
    assert len(cache_folders(engine)) == 2


def test_continuing_a_decoder_only_run_is_exact(engine):
    straight = make_trainer(engine, "ShortDecoderOnlyTrainer")
    straight.initialize()
    straight.run_training()
    expected = load_checkpoint(straight.output_folder / CHECKPOINT_FINAL)
    shutil.rmtree(straight.output_folder)

    first = make_trainer(engine, "ShortDecoderOnlyTrainer")
    first.initialize()
    first.train_one_epoch()
    resumed = make_trainer(engine, "ShortDecoderOnlyTrainer")
    resumed.initialize(pretrained=False)
    resumed.load_checkpoint(first.output_folder / CHECKPOINT_LATEST)
    resumed.run_training()
    found = load_checkpoint(resumed.output_folder / CHECKPOINT_FINAL)
    assert found["logging"]["train_losses"] == expected["logging"]["train_losses"]
    for name, tensor in expected["network_weights"].items():
        assert torch.equal(found["network_weights"][name], tensor), name
