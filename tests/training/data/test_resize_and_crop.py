"""Slice resizing matches torch's interpolation; crops pad with zeros outside the slice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from samseg.training.data import resize_images, resize_labels
from samseg.training.data.crop import crop_origin, padded_crop

SIZES = [((102, 111), (64, 64)), ((70, 65), (32, 48)), ((9, 13), (32, 32)), ((40, 40), (40, 20))]


@pytest.mark.parametrize(("shape", "size"), SIZES)
def test_images_resize_like_the_predictors_torch_bilinear(shape, size) -> None:
    images = np.random.default_rng(0).uniform(0, 255, (2, 3, *shape)).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(images), size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(resize_images(images, size), expected.numpy(), atol=2e-3)


@pytest.mark.parametrize(("shape", "size"), SIZES)
def test_labels_resize_like_torch_nearest_exact(shape, size) -> None:
    labels = np.random.default_rng(1).integers(0, 14, (2, *shape)).astype(np.int8)
    as_float = torch.from_numpy(labels).float()[:, None]
    expected = F.interpolate(as_float, size, mode="nearest-exact")[:, 0]
    resized = resize_labels(labels, size)
    assert resized.dtype == np.int8
    np.testing.assert_array_equal(resized, expected.numpy().astype(np.int8))


def test_same_size_resize_is_a_copy_and_out_is_filled() -> None:
    images = np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6)
    same = resize_images(images, (5, 6))
    assert same is not images
    np.testing.assert_array_equal(same, images)
    out = np.empty((2, 10, 12), np.float32)
    assert resize_images(images, (10, 12), out=out) is out


def test_padded_crop_fills_outside_with_zeros() -> None:
    array = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4)
    crop = padded_crop(array, -1, 2, 4)
    expected = np.zeros((1, 4, 4), np.float32)
    expected[0, 1:4, 0:2] = array[0, :, 2:4]
    np.testing.assert_array_equal(crop, expected)
    assert not padded_crop(array, 10, 10, 2).any()


def test_crop_origin_keeps_patches_inside_and_centres_small_slices() -> None:
    rng = np.random.default_rng(0)
    origins = [crop_origin((40, 10), 16, rng) for _ in range(200)]
    assert {top for top, _ in origins} == set(range(0, 25))
    assert {left for _, left in origins} == {-3}
    assert crop_origin((40, 13), 16, rng)[1] == -1  # padding 1 before, 2 after, as predicted
    label = np.zeros((40, 40), np.int8)
    label[37, 2] = 1
    top, left = crop_origin((40, 40), 16, rng, label, 1)
    assert (top, left) == (24, 0)
