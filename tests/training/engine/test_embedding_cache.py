"""The embedding cache: the predictor's views encoded, keyed by everything that changes an
embedding, resumable per case, and drawn into seeded batches."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import torch

from samseg.errors import SamsegConfigError
from samseg.models import build_sam
from samseg.models.encoders import get_encoder_family
from samseg.plans import Plans
from samseg.preprocessing.storage import CasePaths, load_case
from samseg.slices import sam_input_slices
from samseg.training.cache import (
    CachedBatchStream,
    CacheKey,
    EmbeddingCache,
    EmbeddingCacheSettings,
    build_embedding_cache,
    encoder_weights_hash,
)
from samseg.training.cache.store import ViewRecord
from samseg.training.data.targets import ClassIndexTargets
from samseg.training.data.views import network_input_views
from tests.training.engine.conftest import CONFIGURATION, DATASET, prepare_dataset

CASES = ["case00", "case01"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    roots = prepare_dataset(tmp_path_factory.mktemp("cache"), DATASET, 2)
    return roots, Plans.load(roots["preprocessed"] / DATASET / "samsegPlans.json")


@pytest.fixture
def setup(dataset, tmp_path):
    """The dataset's roots (the cache under this test's own folder), plans, a vit_tiny."""
    roots, plans = dataset
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 64, None, num_classes=3)
    return {**roots, "cache": tmp_path}, plans, network


def make_cache(roots, plans, network, settings, configuration=CONFIGURATION, plans_override=None):
    plans = plans_override or plans
    key = CacheKey.of(
        plans=plans,
        configuration_name=configuration,
        model_type="vit_tiny",
        pixel_normalisation=network.encoder_family.normalisation,
        precision=network.precision,
        encoder_weights=encoder_weights_hash(network.image_encoder),
        settings=settings,
    )
    data = roots["preprocessed"] / DATASET / plans.configuration(configuration).data_identifier
    return EmbeddingCache(key.folder(roots["cache"]), key, data)


def build(cache, network, plans, settings, log=None):
    lines = [] if log is None else log
    report = build_embedding_cache(
        cache,
        network,
        CASES,
        plans.configuration(CONFIGURATION),
        settings,
        show_progress=False,
        log=lines.append,
    )
    return report


def test_cached_views_are_the_predictors_views_encoded(setup):
    roots, plans, network = setup
    settings = EmbeddingCacheSettings(return_blocks=(0, 1))
    cache = make_cache(roots, plans, network, settings)
    report = build(cache, network, plans, settings)
    assert (report.encoded_cases, report.reused_cases) == (2, 0)
    configuration = plans.configuration(CONFIGURATION)
    stored = load_case(cache.data_folder, "case01")
    cached = cache.open_case("case01")
    index = 3
    view = cached.views[index]
    image = sam_input_slices(stored.data, [view.slice_index], configuration.context_slices)[0]
    label = np.asarray(stored.label[0, view.slice_index])
    expected = network_input_views(image, label, configuration)
    window = expected.windows.index(view.window)
    with torch.no_grad():
        encoded = network.encode(torch.from_numpy(expected.images[[window]]), (0, 1))
    embedding = torch.from_numpy(cached.embeddings[index].astype(np.float32))
    torch.testing.assert_close(embedding, encoded.image_embeddings[0], atol=2e-3, rtol=2e-3)
    np.testing.assert_array_equal(cached.labels[index], expected.labels[window])
    shapes = get_encoder_family("vit_tiny").block_features("vit_tiny", 64)
    for block in (0, 1):
        assert cached.blocks[block].shape[1:] == (shapes[block].side,) * 2 + (
            shapes[block].channels,
        )
    assert len(cached.views) == sum(
        network_input_views(
            sam_input_slices(stored.data, [s], configuration.context_slices)[0],
            None,
            configuration,
        ).images.shape[0]
        for s in range(stored.data.shape[1])
    )


def test_the_key_changes_with_what_changes_an_embedding(setup):
    roots, plans, network = setup
    settings = EmbeddingCacheSettings()
    base = make_cache(roots, plans, network, settings).key.digest
    assert make_cache(roots, plans, network, settings).key.digest == base
    edited = dataclasses.replace(plans.configuration(CONFIGURATION), context_slices=2)
    other_plans = dataclasses.replace(
        plans, configurations={**plans.configurations, CONFIGURATION: edited}
    )
    edited_cache = make_cache(roots, plans, network, settings, plans_override=other_plans)
    assert edited_cache.key.digest != base
    blocks = EmbeddingCacheSettings(return_blocks=(1,))
    assert make_cache(roots, plans, network, blocks).key.digest != base
    with torch.no_grad():
        next(network.image_encoder.parameters()).view(-1)[0] += 1e-3
    assert make_cache(roots, plans, network, settings).key.digest != base


def test_a_build_resumes_and_reencodes_changed_cases(setup):
    roots, plans, network = setup
    settings = EmbeddingCacheSettings()
    cache = make_cache(roots, plans, network, settings)
    build(cache, network, plans, settings)
    (cache.folder / "case00.json").unlink()
    report = build(cache, network, plans, settings)
    assert (report.encoded_cases, report.reused_cases) == (1, 1)
    data = CasePaths.of(cache.data_folder, "case01").data
    status = data.stat()
    os.utime(data, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))
    log = []
    report = build(cache, network, plans, settings, log)
    assert (report.encoded_cases, report.reused_cases) == (1, 1)
    assert "1 cases" in log[0] and "1 cases reused" in log[0]


def test_scaled_copies_need_a_fixed_scale_configuration(setup):
    roots, plans, network = setup
    configuration = plans.configuration(CONFIGURATION)
    settings = EmbeddingCacheSettings(scales=(0.8, 1.0))
    edited = dataclasses.replace(configuration, slice_scaling="resize_to_fill")
    plans = dataclasses.replace(plans, configurations={CONFIGURATION: edited})
    cache = make_cache(roots, plans, network, settings)
    with pytest.raises(SamsegConfigError, match="scaled copies need a fixed_scale"):
        build(cache, network, plans, settings)


def test_cached_batches_are_seeded_and_oversample_foreground(setup):
    roots, plans, network = setup
    cache = make_cache(roots, plans, network, EmbeddingCacheSettings())
    cache.prepare()
    rng = np.random.default_rng(0)
    for case_id, foreground_view in (("case00", 7), ("case01", 2)):
        labels = np.zeros((10, 64, 64), np.int16)
        labels[foreground_view, 5:9, 5:9] = 2
        views = [
            ViewRecord(i, 1.0, None, (0, 2) if i == foreground_view else (0,)) for i in range(10)
        ]
        embeddings = rng.normal(size=(10, 256, 4, 4)).astype(np.float32)
        cache.write_case(case_id, views, embeddings, {}, labels)
    targets = ClassIndexTargets(plans.label_handling)

    def batches(seed, oversampling=0.5):
        stream = CachedBatchStream(
            cache,
            CASES,
            targets=targets,
            batch_size=4,
            foreground_oversampling=oversampling,
            seed=seed,
        )
        return [next(stream) for _ in range(8)]

    first, again, other = batches(1), batches(1), batches(2)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a.embeddings, b.embeddings) and a.keys == b.keys
    pairs = zip(first, other, strict=True)
    assert not all(torch.equal(a.embeddings, b.embeddings) for a, b in pairs)
    for batch in first:
        assert batch.from_cache and batch.embeddings.shape == (4, 256, 4, 4)
        assert all((target == 2).any() for target in batch.target[2:])
    unforced = torch.stack([b.target for b in batches(1, oversampling=0.0)])
    assert (unforced == 2).flatten(2).any(-1).float().mean() < 0.5


def test_progress_counts_slices_once_their_views_are_encoded(setup, monkeypatch):
    """The bar must not run ahead of the encoder (it used to reach 100 % before encoding)."""
    roots, plans, network = setup
    settings = dataclasses.replace(EmbeddingCacheSettings(), encode_batch_size=2)
    cache = make_cache(roots, plans, network, settings)
    from samseg.training.cache import build as build_module

    encoded_views, progress_at_encode = [0], []
    original_encode = build_module._encode

    class Bar:
        n = 0

        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def update(self, count=1):
            Bar.n += count

    def encode(network, images, settings):
        progress_at_encode.append((Bar.n, encoded_views[0]))
        encoded_views[0] += len(images)
        return original_encode(network, images, settings)

    monkeypatch.setattr(build_module, "tqdm", Bar)
    monkeypatch.setattr(build_module, "_encode", encode)
    report = build(cache, network, plans, settings)
    assert len(progress_at_encode) > len(CASES)
    # Each engine slice is one view: slices counted before an encode = views encoded before it.
    assert all(slices == views for slices, views in progress_at_encode)
    assert Bar.n == report.encoded_views
