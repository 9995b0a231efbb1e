"""Cropping to the non-zero bounding box."""

from __future__ import annotations

import numpy as np

from samseg.preprocessing import CropBox, crop_to_nonzero, nonzero_bounding_box, nonzero_mask


def test_box_spans_the_non_zero_voxels_of_all_channels() -> None:
    images = np.zeros((2, 8, 10, 12), dtype=np.float32)
    images[0, 1:3, 2:5, 3] = 7.0
    images[1, 2, 7, 9] = -1.0
    labels = np.arange(8 * 10 * 12, dtype=np.int32).reshape(1, 8, 10, 12)

    cropped, cropped_labels, box = crop_to_nonzero(images, labels)

    assert box == CropBox(((1, 3), (2, 8), (3, 10)))
    assert box.shape == (2, 6, 7) == cropped.shape[1:] == cropped_labels.shape[1:]
    np.testing.assert_array_equal(cropped, images[:, 1:3, 2:8, 3:10])
    np.testing.assert_array_equal(cropped_labels, labels[:, 1:3, 2:8, 3:10])


def test_all_zero_image_is_not_cropped() -> None:
    images = np.zeros((1, 4, 5, 6), dtype=np.float32)

    cropped, labels, box = crop_to_nonzero(images, None)

    assert box.ranges == ((0, 4), (0, 5), (0, 6))
    assert cropped.shape == images.shape
    assert labels is None


def test_negative_values_count_as_non_zero() -> None:
    images = np.zeros((1, 3, 4, 4), dtype=np.float32)
    images[0, :, 1:3, 1:3] = -1000.0

    assert nonzero_bounding_box(images).ranges == ((0, 3), (1, 3), (1, 3))


def test_nonzero_mask_fills_enclosed_holes() -> None:
    images = np.zeros((1, 7, 7, 7), dtype=np.float32)
    images[0, 1:6, 1:6, 1:6] = 5.0
    images[0, 2:5, 2:5, 2:5] = 0.0

    mask = nonzero_mask(images)

    assert mask[1:6, 1:6, 1:6].all()
    assert mask.sum() == 125
