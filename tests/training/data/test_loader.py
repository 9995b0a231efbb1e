"""make_slice_loader: batch contents, sampling, seeding, label mapping and worker lifetime."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.plans import LabelHandling
from samseg.preprocessing import load_case
from samseg.slices import sam_input_slices
from samseg.training.data import AugmentationSettings, make_slice_loader, resize_images
from samseg.training.data.sampling import oversampled_count
from samseg.training.loss import IGNORE_INDEX
from tests.training.data.stores import LABELS, configuration, ramp_case


def loader(folder: Path, **overrides):
    arguments = {
        "folder": folder,
        "case_ids": ["case0", "case1", "case2"],
        "configuration": configuration(),
        "label_handling": LABELS,
        "batch_size": 3,
        "augmentation": AugmentationSettings(),
        "num_workers": 0,
        **overrides,
    }
    return make_slice_loader(**arguments)


def take(stream, count: int) -> list[dict]:
    with stream:
        return [next(stream) for _ in range(count)]


def test_batches_have_the_documented_shapes_types_and_ranges(store) -> None:
    for handling, size in (("resize", 32), ("sliding_window", 16)):
        (batch,) = take(loader(store(), configuration=configuration(size, handling)), 1)

        assert batch["images"].shape == (3, 3, size, size)
        assert batch["images"].dtype == torch.float32
        assert batch["images"].min() >= 0 and batch["images"].max() <= 255
        assert batch["target"].shape == (3, size, size)
        assert batch["target"].dtype == torch.int64
        assert set(batch["target"].unique().tolist()) <= {0, 1, 2}
        assert len(batch["keys"]) == 3 and set(batch["keys"]) <= {"case0", "case1", "case2"}


def test_resize_batches_are_the_whole_slice_resized_as_at_inference(store) -> None:
    folder = store()
    stream = loader(folder, augmentation=AugmentationSettings.none(), batch_size=1)
    batch = take(stream, 1)[0]
    case = load_case(folder, batch["keys"][0])
    matches = [
        s
        for s in range(case.data.shape[1])
        if np.allclose(
            resize_images(sam_input_slices(case.data, [s], 1)[0], (32, 32)),
            batch["images"][0].numpy(),
        )
    ]
    assert len(matches) == 1


def test_sliding_window_batches_are_full_resolution_crops_padded_when_small(store) -> None:
    data, label = ramp_case(0, shape=(4, 12, 40))
    folder = store({"case0": (data, label)})
    stream = loader(
        folder,
        case_ids=["case0"],
        configuration=configuration(16, "sliding_window", context_slices=0),
        augmentation=AugmentationSettings.none(),
        batch_size=4,
    )
    for image in take(stream, 2)[0]["images"].numpy():
        channel = image[0]
        assert np.all(channel[:2] == 0) and np.all(channel[-2:] == 0)  # 12 rows padded to 16
        found = [
            (s, left)
            for s in range(4)
            for left in range(40 - 16 + 1)
            if np.allclose(channel[2:14], data[0, s, :, left : left + 16], atol=0.07)
        ]
        assert found


def test_sliding_window_slices_that_fit_are_resized_as_at_inference(store) -> None:
    data, label = ramp_case(0, shape=(3, 12, 14))
    folder = store({"case0": (data, label)})
    stream = loader(
        folder,
        case_ids=["case0"],
        configuration=configuration(16, "sliding_window", context_slices=0),
        augmentation=AugmentationSettings.none(),
    )
    stored = load_case(folder, "case0").data[0]
    resized = [resize_images(stored[s], (16, 16)) for s in range(3)]
    for image in take(stream, 1)[0]["images"].numpy():
        assert any(np.allclose(image[0], candidate) for candidate in resized)


def test_same_seed_gives_the_same_batches_and_another_seed_or_rank_others(store) -> None:
    folder = store()

    def images(**overrides) -> torch.Tensor:
        return torch.stack([b["images"] for b in take(loader(folder, **overrides), 3)])

    first, again = images(seed=3), images(seed=3)
    assert torch.equal(first, again)
    assert not torch.equal(first, images(seed=4))
    assert not torch.equal(first, images(seed=3, rank=1, world_size=2))


def test_loader_leaves_the_callers_global_random_state_alone(store) -> None:
    np.random.seed(0)
    expected = np.random.random()
    np.random.seed(0)
    take(loader(store()), 2)
    assert np.random.random() == expected


def test_foreground_oversampling_rate_on_mostly_background_data(store) -> None:
    cases = {}
    for index in range(4):
        data, _ = ramp_case(index, shape=(40, 24, 24))
        label = np.zeros((40, 24, 24), np.int8)
        label[7 + index, 8:16, 8:16] = 1 + index % 2
        cases[f"case{index}"] = (data, label)
    stream = loader(
        store(cases),
        case_ids=list(cases),
        augmentation=AugmentationSettings.none(),
        foreground_oversampling=0.33,
    )
    batches = take(stream, 100)
    has_foreground = np.array([[(t > 0).any() for t in b["target"]] for b in batches])

    assert oversampled_count(3, 0.33) == 1
    assert has_foreground[:, 2].all()
    assert 0.3 <= has_foreground.mean() <= 0.4


def test_sliding_window_foreground_samples_keep_their_class_in_the_crop(store) -> None:
    data, label = ramp_case(0, shape=(6, 64, 64))
    label[:] = 0
    label[3, 50:53, 4:7] = 2
    stream = loader(
        store({"case0": (data, label)}),
        case_ids=["case0"],
        configuration=configuration(16, "sliding_window"),
        augmentation=AugmentationSettings.none(),
        foreground_oversampling=1.0,
    )
    for batch in take(stream, 5):
        assert all((target == 2).any() for target in batch["target"])


def test_ignore_label_becomes_ignore_index(store) -> None:
    handling = LabelHandling(
        class_names=("background", "a", "b"), label_values=(0, 1, 2, 3), ignore_label=3
    )
    data, label = ramp_case(0)
    label[:, :, :4] = 3
    stream = loader(
        store({"case0": (data, label)}, handling),
        case_ids=["case0"],
        label_handling=handling,
        augmentation=AugmentationSettings.none(),
    )
    target = take(stream, 1)[0]["target"]
    assert (target[:, :, :2] == IGNORE_INDEX).all()
    assert set(target.unique().tolist()) <= {IGNORE_INDEX, 0, 1, 2}


def test_region_based_labels_are_refused_clearly(store) -> None:
    regions = replace(LABELS, regions_class_order=(1, 2))
    with pytest.raises(SamsegInputError, match="region-based labels are not supported"):
        loader(store(), label_handling=regions)


def test_missing_cases_are_named(store) -> None:
    with pytest.raises(SamsegInputError, match=r"1 missing \['nope'\]"):
        loader(store(), case_ids=["case0", "nope"])


def test_workers_match_the_inline_stream_and_stop_on_close(store) -> None:
    folder = store()
    inline = take(loader(folder, seed=5), 2)
    before = {p.pid for p in multiprocessing.active_children()}

    with loader(folder, seed=5, num_workers=2) as stream:
        batches = [next(stream) for _ in range(4)]
        workers = {p.pid for p in multiprocessing.active_children()} - before
        assert len(workers) == 2

    assert not workers & {p.pid for p in multiprocessing.active_children()}
    # worker 0 makes batches 0, 2, ... from the same stream as the inline loader
    for made_inline, made_by_worker in zip(inline, batches[::2], strict=True):
        assert torch.equal(made_inline["images"], made_by_worker["images"])
        assert torch.equal(made_inline["target"], made_by_worker["target"])
