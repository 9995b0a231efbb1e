"""One case from raw files to normalized, resampled arrays and properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from samseg.errors import SamsegInputError
from samseg.io import SimpleITKIO
from samseg.preprocessing import preprocess_case
from tests.preprocessing.preprocessing_helpers import make_plans, synthetic_case, write_volume


def write_case(folder: Path, image, label, spacing) -> tuple[Path, Path]:
    return (
        write_volume(image, folder / "case_0000.nii.gz", spacing),
        write_volume(label, folder / "case.nii.gz", spacing),
    )


def test_crops_resamples_in_plane_and_normalizes(tmp_path: Path) -> None:
    image, label = synthetic_case(0)
    image_path, label_path = write_case(tmp_path, image, label, (3.0, 0.8, 0.6))

    case = preprocess_case([image_path], label_path, make_plans(), SimpleITKIO())

    properties = case.properties
    assert properties.original_shape == (6, 40, 48)
    assert properties.crop_box.ranges == ((1, 6), (3, 36), (5, 46))
    assert properties.shape_after_crop == (5, 33, 41)
    assert properties.shape_after_resampling == (5, round(33 * 0.8), round(41 * 0.6))
    assert case.data.shape == (1, 5, 26, 25)
    assert case.label.shape == (1, 5, 26, 25)
    assert properties.spacing_after_resampling == pytest.approx((3.0, 33 * 0.8 / 26, 41 * 0.6 / 25))
    assert case.data.dtype == np.float16
    assert case.label.dtype == np.int8
    assert case.data.min() >= 0 and case.data.max() <= 255
    assert set(np.unique(case.label)) == {0, 1, 2, 3}
    # values: each cropped slice resampled (cubic spline, as scipy's zoom), then CT-windowed
    crop = image[1:6, 3:36, 5:46].astype(np.float64)
    zoom = (26 / 33, 25 / 41)
    resampled = np.stack(
        [ndimage.zoom(s, zoom, order=3, mode="nearest", grid_mode=True) for s in crop]
    )
    expected = (np.clip(resampled, -125, 275) + 125) * 255 / 400
    np.testing.assert_allclose(case.data[0].astype(np.float64), expected, rtol=0, atol=0.15)


def test_spacing_at_target_keeps_the_crop_and_maps_the_ct_window(tmp_path: Path) -> None:
    image, label = synthetic_case(1)
    image_path, label_path = write_case(tmp_path, image, label, (3.0, 1.0, 1.0))

    case = preprocess_case([image_path], label_path, make_plans(), SimpleITKIO())

    crop = image[1:6, 3:36, 5:46].astype(np.float32)
    expected = (np.clip(crop, -125, 275) + 125) * 255 / 400
    np.testing.assert_allclose(case.data[0], expected, atol=0.125)
    np.testing.assert_array_equal(case.label[0], label[1:6, 3:36, 5:46])
    assert case.properties.spacing_after_resampling == (3.0, 1.0, 1.0)


def test_coarsest_axis_other_than_z_comes_first(tmp_path: Path) -> None:
    image, label = synthetic_case(2)
    image[:] = 0
    image[1:6, 3:36, 5:46] = np.arange(5 * 33 * 41).reshape(5, 33, 41) % 300 + 1
    image_path, label_path = write_case(tmp_path, image, label, (1.0, 1.0, 3.0))
    plans = make_plans(transpose_forward=(2, 0, 1), target_spacing=(1.0, 1.0, 3.0))

    case = preprocess_case([image_path], label_path, plans, SimpleITKIO())

    assert case.data.shape == (1, 41, 5, 33)
    assert case.properties.transpose_forward == (2, 0, 1)
    assert case.properties.spacing_after_resampling == (3.0, 1.0, 1.0)
    crop = image[1:6, 3:36, 5:46].astype(np.float32)
    expected = (np.clip(crop, -125, 275) + 125) * 255 / 400
    np.testing.assert_allclose(case.data[0], expected.transpose(2, 0, 1), atol=0.125)
    np.testing.assert_array_equal(case.label[0], label[1:6, 3:36, 5:46].transpose(2, 0, 1))


def test_class_slices_list_the_slices_holding_each_foreground_value(tmp_path: Path) -> None:
    image, label = synthetic_case(3)
    image_path, label_path = write_case(tmp_path, image, label, (3.0, 1.0, 1.0))
    plans = make_plans(label_values=(0, 1, 2, 3, 4, 5), ignore_label=5)

    case = preprocess_case([image_path], label_path, plans, SimpleITKIO())

    # the crop starts at z = 1, so raw slices 1-3 of class 1 are stored slices 0-2
    assert case.properties.class_slices == {1: (0, 1, 2), 2: (2, 3), 3: (1,), 4: ()}


def test_without_a_label_for_prediction(tmp_path: Path) -> None:
    image, _ = synthetic_case(4)
    image_path = write_volume(image, tmp_path / "case_0000.nii.gz", (3.0, 0.8, 0.6))

    case = preprocess_case([image_path], None, make_plans(), SimpleITKIO())

    assert case.label is None
    assert case.properties.class_slices == {}
    assert case.data.shape == (1, 5, 26, 25)


def test_z_score_channel_uses_its_non_zero_region(tmp_path: Path) -> None:
    image, label = synthetic_case(5)
    image[1:6, 3:36, 5:46][image[1:6, 3:36, 5:46] == 0] = 1
    image[1:6, 3:15, 5:15] = 0  # outside the region, inside the crop box
    region = np.ones((5, 33, 41), dtype=bool)
    region[:, :12, :10] = False
    # the non-zero region is the union over channels: both channels are zero outside it
    image_path, label_path = write_case(tmp_path, image * 2, label, (3.0, 1.0, 1.0))
    second = write_volume(image, tmp_path / "case_0001.nii.gz", (3.0, 1.0, 1.0))
    plans = make_plans(
        normalization=(("CTNormalization", -125, 275), ("ZScoreNormalization", -3, 3))
    )

    case = preprocess_case([image_path, second], label_path, plans, SimpleITKIO())

    assert case.data.shape == (2, 5, 33, 41)
    channel = case.data[1]
    assert (channel[~region] == 0).all()
    inside = image[1:6, 3:36, 5:46][region].astype(np.float64)
    z = np.clip((inside - inside.mean()) / inside.std(), -3, 3)
    np.testing.assert_allclose(channel[region], (z + 3) * 255 / 6, atol=0.13)


def test_label_with_another_shape_is_an_error_naming_it(tmp_path: Path) -> None:
    image, label = synthetic_case(6)
    image_path, label_path = write_case(tmp_path, image, label[:, :-1], (3.0, 1.0, 1.0))

    with pytest.raises(SamsegInputError, match=f"{label_path}: expected the image's shape"):
        preprocess_case([image_path], label_path, make_plans(), SimpleITKIO())


def test_unknown_label_value_is_an_error_naming_the_file(tmp_path: Path) -> None:
    image, label = synthetic_case(7)
    label[2, 2, 2] = 9
    image_path, label_path = write_case(tmp_path, image, label, (3.0, 1.0, 1.0))

    with pytest.raises(SamsegInputError, match=f"{label_path}: expected label values in"):
        preprocess_case([image_path], label_path, make_plans(), SimpleITKIO())


def test_channel_count_must_match_the_plans(tmp_path: Path) -> None:
    image, label = synthetic_case(8)
    image_path, label_path = write_case(tmp_path, image, label, (3.0, 1.0, 1.0))
    plans = make_plans(normalization=(("CTNormalization", -125, 275),) * 2)

    with pytest.raises(SamsegInputError, match="expected 2 channel files"):
        preprocess_case([image_path], label_path, plans, SimpleITKIO())
