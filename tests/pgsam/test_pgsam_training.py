"""PG-SAM trainers end to end on synthetic shapes: the text prior matters (swapping two
classes' descriptions at prediction swaps their masks), the learned-embedding ablation is the
baseline, checkpoints predict without a text encoder; the released loss and guide, and the
frozen-encoder variant with cached level blocks, train."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch

from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.inference.model_loading import load_trained_network
from samseg.inference.pgsam_heatmaps import HeatmapRecorder
from samseg.inference.slice_predictor import SlicePredictor
from samseg.paths import preprocessed_root
from samseg.plans import Plans
from samseg.training.checkpoints import CHECKPOINT_FINAL, load_checkpoint, save_checkpoint
from samseg.training.pgsam_text import TEXT_SETTINGS_VARIABLE
from samseg.training.registry import trainer_class
from samseg.training.trainers.pgsam import TEXT_LORA_KEY
from tests.pgsam.conftest import SHAPE_DESCRIPTIONS, SHAPES_DATASET

TRAINERS = Path(__file__).with_name("trainers")
SWAPPED = "checkpoint_swapped.pth"
EMBEDDINGS = "text_prior.embeddings"


@pytest.fixture
def shapes(shapes_roots, tmp_path, monkeypatch, make_clip) -> dict[str, Path]:
    """The shapes dataset's roots, a fresh results root, the tiny trainers registered and a
    text prior configured (a tiny CLIP of this test and the shapes' descriptions)."""
    roots = {**shapes_roots, "results": tmp_path / "results"}
    for name, path in roots.items():
        monkeypatch.setenv(f"SAMSEG_{name}", str(path))
        monkeypatch.delenv(f"nnUNet_{name}", raising=False)
    monkeypatch.setenv("SAMSEG_extTrainer", str(TRAINERS))
    classes = zip(SHAPE_DESCRIPTIONS.names, SHAPE_DESCRIPTIONS.descriptions, strict=True)
    (tmp_path / "shapes.json").write_text(
        json.dumps({"classes": [{"name": n, "description": d} for n, d in classes]})
    )
    roots["clip"] = make_clip(3)
    settings = {"source": "clip", "clip_path": str(roots["clip"]), "descriptions": "shapes.json"}
    (tmp_path / "pgsam_text.json").write_text(json.dumps(settings))
    monkeypatch.setenv(TEXT_SETTINGS_VARIABLE, str(tmp_path / "pgsam_text.json"))
    return roots


def make_trainer(name: str):
    plans = Plans.load(preprocessed_root() / SHAPES_DATASET / "samsegPlans.json")
    return trainer_class(name)(
        plans=plans,
        configuration="2d_64",
        fold=0,
        device=torch.device("cpu"),
        sam_checkpoint="none",
        show_progress=False,
    )


def trained_dice(name: str) -> tuple[dict[str, float], dict[str, float]]:
    """Per-class validation Dice of a trained ``name`` with its own class embeddings, and with
    those of box and disc swapped in its checkpoint."""
    trainer = make_trainer(name)
    trainer.initialize()
    trainer.run_training()
    checkpoint = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    assert checkpoint["network"]["kind"] == "pgsam"
    weights = checkpoint["network_weights"]
    weights[EMBEDDINGS] = weights[EMBEDDINGS][[0, 2, 1]]
    save_checkpoint(checkpoint, trainer.output_folder / SWAPPED)
    dice = []
    for checkpoint_name in (CHECKPOINT_FINAL, SWAPPED):
        summary = trainer.perform_validation(checkpoint_name)
        dice.append({name: summary.mean[str(v)]["Dice"] for v, name in ((1, "box"), (2, "disc"))})
    return dice[0], dice[1]


def test_swapping_two_descriptions_swaps_the_masks(shapes, monkeypatch, tmp_path) -> None:
    trainer = make_trainer("TinyPGSAMTrainer")
    trainer.initialize()
    trainer.run_training()
    assert "text source {'source': 'clip'" in trainer.log.path.read_text()
    checkpoint = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    embeddings = checkpoint["network_weights"][EMBEDDINGS]
    assert torch.allclose(embeddings, trainer.text.embeddings)
    # Box described as the disc and the disc as the box, embedded by the same encoder.
    with torch.no_grad():
        swapped_text = trainer.text.encoder(
            trainer.text.descriptions.permuted([0, 2, 1]).descriptions
        )
    assert torch.allclose(swapped_text, embeddings[[0, 2, 1]], atol=1e-5)
    checkpoint["network_weights"][EMBEDDINGS] = swapped_text
    save_checkpoint(checkpoint, trainer.output_folder / SWAPPED)
    # Prediction needs no text encoder: the embeddings live in the checkpoint.
    shutil.rmtree(shapes["clip"])
    monkeypatch.delenv(TEXT_SETTINGS_VARIABLE)
    text = trainer.perform_validation(CHECKPOINT_FINAL).mean
    swapped = trainer.perform_validation(SWAPPED).mean
    recorder = HeatmapRecorder(
        load_trained_network(trainer.output_folder / CHECKPOINT_FINAL), tmp_path / "maps", {2}
    )
    predictor = SlicePredictor(
        [recorder],
        trainer.plans,
        "2d_64",
        trainer.description,
        use_mirroring=False,
        show_progress=False,
    )
    case = trainer.val_ids[0]
    predictor.predict_case([shapes["raw"] / SHAPES_DATASET / "imagesTr" / f"{case}_0000.nii.gz"])
    names = SHAPE_DESCRIPTIONS.names
    expected = [f"{case}_slice002_r0_c0_{name}.png" for name in names]
    assert [path.name for path in recorder.written] == expected
    for value in ("1", "2"):
        dice = text[value]["Dice"]
        assert dice > 0.35, text
        assert swapped[value]["Dice"] < min(dice / 2, dice - 0.25), (text, swapped)

    learned, learned_swapped = trained_dice("TinyPGSAMLearnedPriorTrainer")
    text_mean = (text["1"]["Dice"] + text["2"]["Dice"]) / 2
    assert text_mean > sum(learned.values()) / 2 - 0.25, (text, learned)
    assert all(learned_swapped[c] < learned[c] / 2 for c in learned), learned_swapped


def test_released_loss_and_guide_and_the_cached_frozen_encoder_variant_train(shapes) -> None:
    released = make_trainer("ShortPGSAMReleasedLossTrainer")
    released.initialize()
    released.run_training()
    final = load_checkpoint(released.output_folder / CHECKPOINT_FINAL)
    assert final["network"]["pgsam"]["guide"] == "released"
    assert all(torch.isfinite(torch.tensor(final["logging"]["train_losses"])))

    cached = make_trainer("ShortPGSAMDecoderOnlyTrainer")
    assert cached.embedding_cache.return_blocks == (1,)
    cached.initialize()
    before = {k: v.clone() for k, v in cached.network.image_encoder.state_dict().items()}
    cached.run_training()
    final = load_checkpoint(cached.output_folder / CHECKPOINT_FINAL)
    for name, tensor in before.items():
        assert torch.equal(final["network_weights"][f"image_encoder.{name}"], tensor), name
    assert "blocks [1]" in cached.log.path.read_text()


def test_no_configured_text_source_is_an_error(shapes, monkeypatch) -> None:
    monkeypatch.delenv(TEXT_SETTINGS_VARIABLE)
    with pytest.raises(SamsegConfigError, match="PGSAMLearnedPriorTrainer trains without text"):
        make_trainer("TinyPGSAMTrainer")
    beside = shapes["raw"] / SHAPES_DATASET / "pgsam_text.json"
    beside.write_text(json.dumps({"source": "file", "embeddings_file": "missing.pt"}))
    try:
        with pytest.raises(SamsegInputError, match=r"missing\.pt: expected a PG-SAM text-emb"):
            make_trainer("TinyPGSAMTrainer")
    finally:
        beside.unlink()


def test_text_lora_trains_and_the_checkpoint_keeps_its_embeddings(shapes, tmp_path) -> None:
    settings = json.loads((tmp_path / "pgsam_text.json").read_text())
    (tmp_path / "pgsam_text.json").write_text(json.dumps({**settings, "text_lora_rank": 2}))
    trainer = make_trainer("ShortPGSAMTrainer")
    trainer.initialize()
    trainable = re.search(r": text_encoder +([\d,]+) ", trainer.log.path.read_text())
    assert trainable and int(trainable.group(1).replace(",", "")) > 0
    trainer.run_training()
    final = load_checkpoint(trainer.output_folder / CHECKPOINT_FINAL)
    lora = final[TEXT_LORA_KEY]
    assert any("lora_B" in name and tensor.abs().sum() > 0 for name, tensor in lora.items())
    with torch.no_grad():
        current = trainer.text.current()
    stored = final["network_weights"][EMBEDDINGS]
    assert not torch.allclose(stored, trainer.text.embeddings, atol=1e-6)
    assert torch.allclose(stored, current, atol=1e-6)
