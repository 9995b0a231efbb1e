"""In-plane resampling of images, labels and class scores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from samseg.preprocessing import (
    in_plane_shape,
    needs_resampling,
    resample_argmax_in_plane,
    resample_in_plane,
    resample_labels_in_plane,
)


def test_new_shape_is_rounded_shape_times_spacing_over_target() -> None:
    assert in_plane_shape((100, 81), (0.7, 0.9), (1.0, 1.2)) == (70, 61)
    assert in_plane_shape((3, 3), (0.1, 0.1), (1.0, 1.0)) == (1, 1)


def test_spacing_within_one_thousandth_needs_no_resampling() -> None:
    assert not needs_resampling((0.7006, 1.0), (0.7, 1.0))
    assert needs_resampling((0.702, 1.0), (0.7, 1.0))


@pytest.mark.parametrize("new_shape", [(45, 31), (17, 60), (3, 4)])
def test_order_3_matches_scipy_zoom_per_slice(new_shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    images = (rng.normal(size=(2, 3, 29, 40)) * 300).astype(np.float32)

    resampled = resample_in_plane(images, new_shape, 3)

    assert resampled.shape == (2, 3, *new_shape)
    assert resampled.dtype == np.float32
    zoom = (new_shape[0] / 29, new_shape[1] / 40)
    for channel in range(2):
        for index in range(3):
            reference = ndimage.zoom(
                images[channel, index].astype(np.float64),
                zoom,
                order=3,
                mode="nearest",
                grid_mode=True,
            )
            np.testing.assert_allclose(resampled[channel, index], reference, atol=1e-2, rtol=0)


def test_slices_are_resampled_independently() -> None:
    images = np.zeros((1, 4, 10, 10), dtype=np.float32)
    images[0, 2] = 100.0

    resampled = resample_in_plane(images, (15, 7), 3)

    np.testing.assert_allclose(resampled[0, 2], 100.0, atol=1e-3)
    np.testing.assert_allclose(resampled[0, [0, 1, 3]], 0.0, atol=1e-3)


def test_same_shape_returns_the_float32_input() -> None:
    images = np.ones((1, 2, 5, 6), dtype=np.float32)

    assert resample_in_plane(images, (5, 6), 3) is images


def test_labels_keep_thin_structures_that_nearest_loses() -> None:
    labels = np.zeros((1, 2, 20, 20), dtype=np.uint8)
    labels[0, :, 6, :] = 1
    labels[0, :, 11, :] = 2
    labels[0, :, :, 3] = 3
    labels[0, :, :, 8] = 4

    resampled = resample_labels_in_plane(labels, (10, 10))
    nearest = ndimage.zoom(labels[0, 0], 0.5, order=0, mode="nearest", grid_mode=True)

    assert resampled.shape == (1, 2, 10, 10)
    assert resampled.dtype == np.uint8
    assert set(np.unique(resampled)) == {0, 1, 2, 3, 4}
    assert set(np.unique(nearest)) < {0, 1, 2, 3, 4}


def test_labels_are_the_arg_max_of_linearly_interpolated_one_hot() -> None:
    rng = np.random.default_rng(3)
    labels = ndimage.zoom(rng.integers(0, 5, size=(3, 8, 9)), (1, 4, 4), order=0)
    labels = labels.astype(np.int16)[None]
    one_hot = np.stack([(labels[0] == v).astype(np.float32) for v in range(5)])

    for new_shape in [(50, 20), (23, 41)]:
        resampled = resample_labels_in_plane(labels, new_shape)
        scores = resample_in_plane(one_hot, new_shape, 1)
        highest_on_ties = 4 - scores[::-1].argmax(0)
        np.testing.assert_array_equal(resampled[0], highest_on_ties)


def test_argmax_variant_equals_arg_max_of_resampled_scores() -> None:
    rng = np.random.default_rng(4)
    scores = rng.random((4, 3, 12, 14)).astype(np.float32)

    indices = resample_argmax_in_plane(scores, (20, 9))

    expected = resample_in_plane(scores, (20, 9), 1).argmax(0)
    np.testing.assert_array_equal(indices, expected)
    assert indices.dtype == np.uint8
