"""Each augmentation changes what it should, and nothing else."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from samseg.training.data import AugmentationSettings, build_transforms, source_size

SIZE = 32


def only(**settings) -> AugmentationSettings:
    return replace(AugmentationSettings.none(), **settings)


def sample_batch(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(2, 3, S, S) images in [40, 200] with an off-centre bright box, and its labels."""
    rng = np.random.default_rng(seed)
    data = rng.uniform(40, 200, (2, 3, SIZE, SIZE)).astype(np.float32)
    seg = np.zeros((2, 1, SIZE, SIZE), np.float32)
    seg[:, :, 4:12, 6:20] = 1
    seg[:, :, 20:26, 22:30] = 2
    data[:, :, 4:12, 6:20] = 230
    return data, seg


def apply(settings: AugmentationSettings, seed: int = 0) -> tuple[np.ndarray, ...]:
    data, seg = sample_batch()
    np.random.seed(seed)
    out = build_transforms(settings, patch_size=SIZE)(data=data.copy(), seg=seg.copy())
    return data, seg, out["data"], out["seg"]


def test_no_augmentation_changes_nothing() -> None:
    data, seg, out_data, out_seg = apply(AugmentationSettings.none())
    np.testing.assert_array_equal(out_data, data)
    np.testing.assert_array_equal(out_seg, seg)


def test_mirroring_flips_image_and_target_together() -> None:
    flips_seen = set()
    for seed in range(12):
        data, seg, out_data, out_seg = apply(only(mirror_axes=(0, 1)), seed)
        for index in range(2):
            flips = [
                axes
                for axes in ((), (1,), (2,), (1, 2))
                if np.array_equal(out_data[index], np.flip(data[index], axes))
                and np.array_equal(out_seg[index], np.flip(seg[index], axes))
            ]
            assert len(flips) == 1
            flips_seen.add(flips[0])
    assert len(flips_seen) == 4


def test_rotation_by_90_degrees_turns_image_and_target_together() -> None:
    settings = only(rotation_degrees=(90.0, 90.0), rotation_probability=1.0)
    data, seg, out_data, out_seg = apply(settings)
    inner = (..., slice(1, -1), slice(1, -1))  # border pixels may fall just outside: zero
    turns = [
        k
        for k in (1, 3)
        if np.allclose(out_data[inner], np.rot90(data, k, axes=(2, 3))[inner], atol=1e-3)
        and np.array_equal(out_seg, np.rot90(seg, k, axes=(2, 3)))
    ]
    assert len(turns) == 1


def test_scaling_below_one_magnifies_image_and_target() -> None:
    data = np.full((1, 3, SIZE, SIZE), 50, np.float32)
    seg = np.zeros((1, 1, SIZE, SIZE), np.float32)
    seg[..., 12:20, 12:20] = 1  # centred 8 x 8 box
    data[seg.repeat(3, axis=1) == 1] = 250
    settings = only(scale_range=(0.5, 0.5), scale_probability=1.0)
    out = build_transforms(settings, patch_size=SIZE)(data=data.copy(), seg=seg.copy())

    box = np.zeros((SIZE, SIZE), bool)
    box[8:24, 8:24] = True  # 16 x 16 after magnification by 2
    assert np.sum((out["seg"][0, 0] == 1) != box) <= 4  # linear label interpolation rounds corners
    assert np.mean((out["data"][0, 0] > 150) == box) > 0.97


@pytest.mark.parametrize(
    ("settings", "check"),
    [
        (
            only(noise_probability=1.0, noise_std_range=(10.0, 10.0)),
            lambda before, after: abs(np.std(after - before) - 10) < 1,
        ),
        (
            only(blur_probability=1.0, blur_sigma_range=(1.0, 1.0)),
            lambda before, after: np.std(after) < 0.7 * np.std(before),
        ),
        (
            only(brightness_probability=1.0, brightness_range=(1.1, 1.1)),
            lambda before, after: np.allclose(after, np.minimum(before * 1.1, 255), atol=1e-3),
        ),
        (
            only(contrast_probability=1.0, contrast_range=(1.2, 1.2)),
            lambda before, after: np.std(after) > 1.05 * np.std(before),
        ),
        (
            only(low_resolution_probability=1.0, low_resolution_zoom_range=(0.5, 0.5)),
            lambda before, after: np.abs(np.diff(after)).mean() < np.abs(np.diff(before)).mean(),
        ),
        (
            only(gamma_probability=1.0, gamma_range=(1.5, 1.5)),
            lambda before, after: (
                not np.allclose(after, before) and abs(after.mean() - before.mean()) < 1
            ),
        ),
    ],
    ids=["noise", "blur", "brightness", "contrast", "low_resolution", "gamma"],
)
def test_intensity_augmentations_change_the_image_only(settings, check) -> None:
    data, seg, out_data, out_seg = apply(settings)
    assert check(data, out_data)
    assert out_data.min() >= 0 and out_data.max() <= 255
    np.testing.assert_array_equal(out_seg, seg)


def test_intensities_stay_within_0_255() -> None:
    _, _, out_data, _ = apply(only(noise_probability=1.0, noise_std_range=(200.0, 200.0)))
    assert out_data.min() == 0 and out_data.max() == 255


def test_source_size_leaves_room_for_rotation_and_zoom() -> None:
    assert source_size(AugmentationSettings.none(), 512) == 512
    assert source_size(AugmentationSettings(), 512) == 1014  # 512 * sqrt(2) * 1.4, even
    turned = only(rotation_degrees=(-15.0, 15.0), rotation_probability=0.2)
    expected = 512 * (math.cos(math.radians(15)) + math.sin(math.radians(15)))
    assert source_size(turned, 512) == 512 + 2 * math.ceil((expected - 512) / 2)


def test_invalid_settings_are_named() -> None:
    with pytest.raises(ValueError, match="noise_probability"):
        AugmentationSettings(noise_probability=1.5)
    with pytest.raises(ValueError, match="mirror_axes"):
        AugmentationSettings(mirror_axes=(2,))
