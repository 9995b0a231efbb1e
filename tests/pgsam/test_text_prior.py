"""PG-SAM's text prior: description files, the CLIP text encoder read from a folder, its
optional LoRA, precomputed embedding files and the embedding cache."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from samseg.conversion.demo_anatomy import DEMO_LABELS
from samseg.conversion.synapse import SYNAPSE_LABELS
from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.models.pgsam import (
    ClassDescriptions,
    TextPriorSettings,
    load_text_embeddings,
    save_text_embeddings,
)
from samseg.models.pgsam.clip_text import ClipTextEncoder
from samseg.models.pgsam.text_prior import cache_key, cached_embeddings
from samseg.training.pgsam_text import prepare_text_prior
from tests.pgsam.conftest import CLIP_LENGTH, SHAPE_DESCRIPTIONS


def test_shipped_descriptions_match_the_synapse_and_demo_labels() -> None:
    for name, labels in (("synapse", SYNAPSE_LABELS), ("demo", DEMO_LABELS)):
        descriptions = ClassDescriptions.load(f"builtin:{name}")
        descriptions.check_matches(list(labels), name)
        assert len(set(descriptions.descriptions)) == len(labels)
        assert all(len(text.split()) >= 10 for text in descriptions.descriptions)


def test_bad_description_files_are_named(tmp_path) -> None:
    with pytest.raises(SamsegInputError, match="builtin:synapse, builtin:demo"):
        ClassDescriptions.load("builtin:nope")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"classes": [{"name": "liver"}]}))
    with pytest.raises(SamsegInputError, match=r"bad.json: expected .*description"):
        ClassDescriptions.load(bad)
    with pytest.raises(SamsegInputError, match=r"label order \['background', 'box'\]"):
        SHAPE_DESCRIPTIONS.check_matches(["background", "box"], "dataset X")
    with pytest.raises(SamsegInputError, match=r"order \['background', 'disc', 'box'\]"):
        SHAPE_DESCRIPTIONS.check_matches(["background", "disc", "box"], "dataset X")


def test_clip_encoder_pads_to_full_length_and_mixes_tokens(tiny_clip) -> None:
    encoder = ClipTextEncoder(tiny_clip)
    assert encoder.max_length == CLIP_LENGTH and encoder.embedding_dim == 16
    assert encoder.tokenize(["a", "a longer text"])["input_ids"].shape == (2, CLIP_LENGTH)
    with torch.no_grad():
        embeddings = encoder(["xbc", "abc", "xbc"])
    # Only the first (non-final) character differs: tokens must mix to tell them apart.
    assert not torch.allclose(embeddings[0], embeddings[1], atol=1e-4)
    assert torch.equal(embeddings[0], embeddings[2])


def test_missing_clip_folder_is_a_config_error(tmp_path) -> None:
    with pytest.raises(SamsegConfigError, match="no_clip: expected a folder with a CLIP"):
        ClipTextEncoder(tmp_path / "no_clip")


def test_text_lora_starts_at_the_frozen_embeddings_and_trains_q_and_v(tiny_clip) -> None:
    texts = list(SHAPE_DESCRIPTIONS.descriptions)
    with torch.no_grad():
        frozen = ClipTextEncoder(tiny_clip)(texts)
    adapted = ClipTextEncoder(tiny_clip, lora_rank=2)
    embeddings = adapted(texts)
    assert torch.allclose(embeddings, frozen, atol=1e-6)
    embeddings.square().sum().backward()
    trainable = {n: p for n, p in adapted.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    grads = {n: p.grad.abs().sum() for n, p in trainable.items() if "lora_B" in n}
    assert any("q_proj" in n and g > 0 for n, g in grads.items())
    assert any("v_proj" in n and g > 0 for n, g in grads.items())


def test_cache_is_keyed_by_encoder_and_descriptions(tiny_clip, make_clip, tmp_path) -> None:
    calls = []

    def compute():
        calls.append(1)
        return torch.randn(3, 16)

    encoder = ClipTextEncoder(tiny_clip)
    key = cache_key(encoder.identity(), SHAPE_DESCRIPTIONS)
    first = cached_embeddings(tmp_path, key, compute, SHAPE_DESCRIPTIONS.names)
    again = cached_embeddings(tmp_path, key, compute, SHAPE_DESCRIPTIONS.names)
    assert torch.equal(first, again) and len(calls) == 1
    changed = replace(SHAPE_DESCRIPTIONS, descriptions=("x", *SHAPE_DESCRIPTIONS.descriptions[1:]))
    assert cache_key(encoder.identity(), changed) != key
    other = ClipTextEncoder(make_clip(1))
    assert cache_key(other.identity(), SHAPE_DESCRIPTIONS) != key


def test_clip_prior_embeds_once_and_file_prior_round_trips(tiny_clip, tmp_path) -> None:
    names = SHAPE_DESCRIPTIONS.names
    descriptions = tmp_path / "shapes.json"
    descriptions.write_text(
        json.dumps(
            {
                "classes": [
                    {"name": n, "description": d}
                    for n, d in zip(names, SHAPE_DESCRIPTIONS.descriptions, strict=True)
                ]
            }
        )
    )
    settings = TextPriorSettings(
        source="clip", clip_path=str(tiny_clip), descriptions=str(descriptions)
    )
    prior = prepare_text_prior(settings, names, "dataset T", tmp_path / "cache")
    assert prior.embeddings.shape == (3, 16)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{prior.cache_key}.pt"]
    with torch.no_grad():
        expected = ClipTextEncoder(tiny_clip)(list(SHAPE_DESCRIPTIONS.descriptions))
    assert torch.allclose(prior.embeddings, expected)

    saved = tmp_path / "embeddings.pt"
    save_text_embeddings(saved, prior.descriptions, prior.embeddings, prior.cache_key)
    read, embeddings, encoder_id = load_text_embeddings(saved)
    assert read.names == names and encoder_id == prior.cache_key
    assert torch.equal(embeddings, prior.embeddings)
    from_file = prepare_text_prior(
        TextPriorSettings(source="file", embeddings_file=str(saved)), names, "T", tmp_path
    )
    assert torch.equal(from_file.embeddings, prior.embeddings)
    with pytest.raises(SamsegInputError, match="classes of dataset U"):
        prepare_text_prior(from_file.settings, ("background", "disc", "box"), "dataset U", tmp_path)


def test_text_settings_need_their_source_fields() -> None:
    with pytest.raises(SamsegConfigError, match="without descriptions, clip_path"):
        TextPriorSettings(source="clip")
    with pytest.raises(SamsegConfigError, match="needs source 'clip'"):
        TextPriorSettings(source="learned", text_lora_rank=4)
