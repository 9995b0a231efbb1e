"""Fixed-scale configurations: one network pixel has one size in every case, in training
batches and in the network-input views alike, and the views are the predictor's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from samseg.inference.tiling import PlaneTiling
from samseg.slices import sam_input_slices
from samseg.training.data import AugmentationSettings, make_slice_loader
from samseg.training.data.views import network_input_views
from tests.training.data.stores import LABELS, configuration


def fixed(input_size: int = 32, zoom: float = 0.5):
    """A fixed-scale configuration of the tests (no context slices)."""
    return replace(
        configuration(input_size, "sliding_window", context_slices=0),
        slice_scaling="fixed_scale",
        zoom=zoom,
    )


def box_case(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(1, 3, R, C) data and (3, R, C) labels: a 12 x 12 box of label 1 near the centre."""
    data = np.full((1, 3, *shape), 50, np.float32)
    label = np.zeros((3, *shape), np.int8)
    top, left = shape[0] // 2 - 6, shape[1] // 2 - 6
    label[:, top : top + 12, left : left + 12] = 1
    data[0][label == 1] = 200
    return data, label


def box_pixels(store, shapes, configuration) -> list[int]:
    """Label-1 pixels of a foreground sample of each case (augmentation off)."""
    folder = store({f"case{i}": box_case(shape) for i, shape in enumerate(shapes)})
    counts = []
    for index in range(len(shapes)):
        stream = make_slice_loader(
            folder=folder,
            case_ids=[f"case{index}"],
            configuration=configuration,
            label_handling=LABELS,
            batch_size=1,
            augmentation=AugmentationSettings.none(),
            foreground_oversampling=1.0,
            num_workers=0,
        )
        with stream:
            counts.append(int((next(stream)["target"] == 1).sum()))
    return counts


def test_an_object_keeps_its_pixel_size_across_cases_only_at_fixed_scale(store) -> None:
    shapes = [(40, 48), (60, 72)]
    # zoom 0.5: the 12 x 12 box is 6 x 6 network pixels in both cases.
    assert box_pixels(store, shapes, fixed()) == [36, 36]
    # resizing to fill 32 x 32 gives the box a size that depends on the slice's extent.
    filled = box_pixels(store, shapes, configuration(32, "resize", context_slices=0))
    assert filled[0] != filled[1]


@pytest.mark.parametrize(("shape", "zoom", "views"), [((40, 48), 0.5, 1), ((40, 48), 1.0, 4)])
def test_views_are_what_the_predictor_cuts(shape, zoom, views) -> None:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 255, (3, *shape)).astype(np.float32)
    label = rng.integers(0, 3, shape).astype(np.int8)
    setting = fixed(zoom=zoom)
    result = network_input_views(image, label, setting)
    tiling = PlaneTiling.for_configuration(shape, setting)
    assert result.windows == tiling.windows and len(result.windows) == views
    expected = tiling.cut(torch.from_numpy(image)[None].expand(views, -1, -1, -1), tiling.windows)
    np.testing.assert_allclose(result.images, expected.numpy(), atol=2e-3)
    one_hot = torch.nn.functional.one_hot(torch.from_numpy(label).long(), 3).permute(2, 0, 1)
    if zoom == 1.0:  # no resampling: the label views are the one-hot cut exactly
        cut = tiling.cut(one_hot[None].float().expand(views, -1, -1, -1), tiling.windows)
        padded = cut.sum(1) == 0
        np.testing.assert_array_equal(np.where(padded, 0, cut.argmax(1)), result.labels)
    assert result.labels.shape == (views, 32, 32) and result.labels.dtype == np.int8


def test_a_training_sample_that_fits_the_frame_is_the_single_predictor_view(store) -> None:
    data, label = box_case((40, 48))
    folder = store({"case0": (data, label)})
    stream = make_slice_loader(
        folder=folder,
        case_ids=["case0"],
        configuration=fixed(),
        label_handling=LABELS,
        batch_size=1,
        augmentation=AugmentationSettings.none(),
        num_workers=0,
    )
    with stream:
        batch = next(stream)
    views = network_input_views(sam_input_slices(data, [0], 0)[0], label[0], fixed())
    assert len(views.windows) == 1
    np.testing.assert_allclose(batch["images"][0].numpy(), views.images[0], atol=1e-3)
    np.testing.assert_array_equal(batch["target"][0].numpy(), views.labels[0])


def test_scaled_copies_shrink_the_slice_in_the_frame() -> None:
    image = np.zeros((3, 40, 48), np.float32)
    label = np.zeros((40, 48), np.int8)
    label[14:26, 18:30] = 1
    own = network_input_views(image, label, fixed(zoom=0.5))
    smaller = network_input_views(image, label, fixed(zoom=0.5), scale=0.5)
    assert (own.labels == 1).sum() == 36 and (smaller.labels == 1).sum() == 9
    assert smaller.frame.framed_shape == (10, 12)
