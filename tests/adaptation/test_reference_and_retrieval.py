"""P²SAM's pieces against hand computations: token grid, prototypes, maps, OT distance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans

from samseg.adaptation import (
    AdaptorSettings,
    ReferenceFeatures,
    mask_to_token_grid,
    valid_region,
    wasserstein_distance,
)
from samseg.adaptation.similarity import extreme_points, similarity_maps
from samseg.errors import SamsegInputError


def test_a_token_is_foreground_by_its_patch_centre_not_its_area() -> None:
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[0:16, 0:16] = True  # patch (0, 0) full
    mask[0:16, 16:32] = True
    mask[7:9, 16:32] = False  # patch (0, 1): 14 of 16 rows, but its two centre rows empty
    mask[23:25, 39:41] = True  # patch (1, 2): only its central 2 x 2 pixels
    grid = mask_to_token_grid(mask, 4)
    assert grid.tolist()[0][:2] == [True, False]
    assert grid[1, 2]
    assert int(grid.sum()) == 2


def reference(seed: int = 0, grid: int = 6) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    embedding = torch.randn(256, grid, grid, generator=generator)
    foreground = torch.zeros(grid, grid, dtype=torch.bool)
    foreground[1:4, 1:5] = True
    valid = torch.ones(grid, grid, dtype=torch.bool)
    valid[-1] = False  # the last token row is padding
    return embedding, foreground, valid


def test_reference_tokens_exclude_padding_unless_the_official_setting_asks() -> None:
    embedding, foreground, valid = reference()
    features = ReferenceFeatures.from_embedding(embedding, foreground, valid)
    assert features.count("foreground") == 12
    assert features.count("background") == 36 - 6 - 12
    official = ReferenceFeatures.from_embedding(
        embedding, foreground, valid, include_padding_in_background=True
    )
    assert official.count("background") == 36 - 12
    tokens = embedding.flatten(1).T
    assert torch.equal(features.foreground_tokens, tokens[foreground.flatten()])
    with pytest.raises(SamsegInputError, match="covering at least one token"):
        ReferenceFeatures.from_embedding(embedding, torch.zeros_like(foreground), valid)


def test_prototypes_are_normalised_means_of_explicit_kmeans_clusters_and_cached() -> None:
    embedding, foreground, valid = reference()
    features = ReferenceFeatures.from_embedding(embedding, foreground, valid)
    tokens = features.foreground_tokens
    one = features.prototypes("foreground", 1)
    assert torch.allclose(one[0], torch.nn.functional.normalize(tokens.mean(0), dim=0))
    three = features.prototypes("foreground", 3)
    labels = KMeans(3, init="k-means++", n_init=10, max_iter=300, tol=1e-4, random_state=0,
                    algorithm="lloyd").fit_predict(tokens.numpy())
    expected = torch.stack([tokens[torch.from_numpy(labels) == k].mean(0) for k in range(3)])
    assert torch.allclose(three, torch.nn.functional.normalize(expected, dim=1), atol=1e-6)
    assert features.prototypes("foreground", 3) is three
    with pytest.raises(ValueError, match="13 foreground parts from 12 tokens"):
        features.prototypes("foreground", 13)


def test_similarity_maps_peak_on_the_matching_token_and_points_avoid_padding() -> None:
    generator = torch.Generator().manual_seed(1)
    target = torch.randn(256, 4, 4, generator=generator)
    prototypes = torch.nn.functional.normalize(torch.randn(2, 256, generator=generator), dim=1)
    target[:, 1, 2] = 3 * prototypes[0]  # token (row 1, column 2) points along prototype 0
    target[:, 3, 0] = prototypes[1]  # token (3, 0), in the padded rows below, along prototype 1
    maps = similarity_maps(prototypes, target, input_size=16)  # 4G = S: one upsampling
    assert maps.shape == (2, 16, 16)
    assert 0.5 < maps[0].max() <= 1.0  # cosines, blurred by the bilinear upsampling
    x, y = extreme_points(maps[:1], valid_region(16, 16, 16), largest=True)[0].tolist()
    assert (int(y) // 4, int(x) // 4) == (1, 2)
    valid = valid_region(16, 8, 16)  # rows 8.. are padding
    points = extreme_points(maps, valid, largest=True)
    assert (points[:, 1] < 8).all()
    inside = torch.where(valid, maps, torch.tensor(-9.0)).flatten(1).amax(1)
    assert torch.equal(maps[[0, 1], points[:, 1].long(), points[:, 0].long()], inside)
    constant = prototypes[0][:, None, None].expand(256, 4, 4) + 0.0
    expected = prototypes[1] @ prototypes[0]
    assert torch.allclose(similarity_maps(prototypes, constant, 16)[1].float(), expected)


def test_the_ot_distance_is_the_exact_squared_euclidean_assignment_cost() -> None:
    rng = np.random.default_rng(0)
    source, target = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    cost = ((source[:, None] - target[None]) ** 2).sum(-1)
    rows, columns = linear_sum_assignment(cost)
    expected = cost[rows, columns].mean()  # uniform weights 1/7: an optimal plan is a permutation
    distance = wasserstein_distance(torch.from_numpy(source), torch.from_numpy(target))
    assert distance.value == pytest.approx(expected, rel=1e-9)
    assert distance.tokens == 7 and distance.warning is None
    assert wasserstein_distance(torch.from_numpy(source), torch.zeros(0, 5)).value == np.inf


def test_candidates_follow_the_mode() -> None:
    assert AdaptorSettings(positive_parts=(1, 3), negative_parts=(0, 1)).candidates() == [
        (1, 0), (1, 1), (2, 0), (2, 1), (3, 0), (3, 1)
    ]
    assert AdaptorSettings(mode="persam").candidates() == [(1, 1)]
    assert AdaptorSettings(negatives="persam_argmin", positive_parts=(2, 3)).candidates() == [
        (2, 1), (3, 1)
    ]
    with pytest.raises(ValueError, match="mode fixed"):
        AdaptorSettings(mode="fixed", positive_parts=(1, 3))
    with pytest.raises(ValueError, match="part counts"):
        AdaptorSettings(positive_parts=(0, 2))
