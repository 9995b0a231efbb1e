"""Normalization schemes and their registry."""

from __future__ import annotations

import numpy as np
import pytest

from samseg.errors import SamsegInputError
from samseg.plans import NORMALIZATION_SCHEME_NAMES, ChannelNormalization
from samseg.preprocessing import (
    NORMALIZATION_SCHEMES,
    CTNormalization,
    ZScoreNormalization,
    normalization_for,
)


def test_ct_window_maps_to_0_255_with_clipping() -> None:
    image = np.array([[[-1000.0, -125.0, 75.0, 275.0, 3000.0]]], dtype=np.float32)

    normalized = CTNormalization(low=-125, high=275)(image, None)

    np.testing.assert_array_equal(normalized, [[[0.0, 0.0, 127.5, 255.0, 255.0]]])
    assert normalized.dtype == np.float32


def test_z_score_uses_the_non_zero_region_and_zeroes_the_rest() -> None:
    rng = np.random.default_rng(0)
    image = np.zeros((4, 10, 10), dtype=np.float32)
    mask = np.zeros(image.shape, dtype=bool)
    mask[:, 2:8, 2:8] = True
    image[mask] = rng.normal(100.0, 20.0, size=mask.sum())
    inside = image[mask].astype(np.float64)
    z = np.clip((inside - inside.mean()) / inside.std(), -2.0, 3.0)

    normalized = ZScoreNormalization(low=-2, high=3)(image.copy(), mask)

    np.testing.assert_allclose(normalized[mask], (z + 2.0) * 51.0, atol=1e-3)
    assert (normalized[~mask] == 0).all()
    assert normalized.min() >= 0 and normalized.max() <= 255


def test_z_score_of_an_empty_region_is_zero() -> None:
    image = np.full((2, 3, 3), 5.0, dtype=np.float32)

    normalized = ZScoreNormalization(low=-3, high=3)(image, np.zeros(image.shape, dtype=bool))

    assert (normalized == 0).all()


def test_registry_builds_the_named_scheme_with_its_window() -> None:
    scheme = normalization_for(ChannelNormalization("ZScoreNormalization", -4.0, 4.0))

    assert isinstance(scheme, ZScoreNormalization)
    assert (scheme.low, scheme.high) == (-4.0, 4.0)
    assert scheme.needs_mask and not NORMALIZATION_SCHEMES["CTNormalization"].needs_mask


def test_unknown_scheme_is_an_input_error() -> None:
    with pytest.raises(SamsegInputError, match="found 'NoSuchNormalization'"):
        normalization_for(ChannelNormalization("NoSuchNormalization", 0.0, 1.0))


def test_every_scheme_name_the_plans_accept_has_a_class() -> None:
    assert sorted(NORMALIZATION_SCHEMES) == sorted(NORMALIZATION_SCHEME_NAMES)
