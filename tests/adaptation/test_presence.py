"""The presence scores and their calibration on the reference (leave one slice out)."""

from __future__ import annotations

import pytest
import torch

from samseg.adaptation.presence import calibrated_thresholds, presence_scores

GRID = 4


def slices(objects: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 256, G, G) embeddings and (n, G, G) class masks: slice i holds ``objects[i]``
    tokens of the class (direction 0, scaled) in its first row; every other token points
    along direction 1 (the surroundings)."""
    embeddings = torch.zeros(len(objects), 256, GRID, GRID)
    embeddings[:, 1] = 1.0
    masks = torch.zeros(len(objects), GRID, GRID, dtype=torch.bool)
    for index, count in enumerate(objects):
        masks[index, 0, :count] = True
        embeddings[index, :, 0, :count] = 0
        embeddings[index, 0, 0, :count] = 2.0 + index
        embeddings[index, 2, 0, :count] = 0.3
    return embeddings, masks


def test_area_counts_the_valid_tokens_closer_to_the_class_and_peak_is_the_best_cosine() -> None:
    embeddings, _ = slices([3, 0])
    foreground, background = torch.eye(256)[[0]], torch.eye(256)[[1]]
    valid = torch.ones(GRID, GRID, dtype=torch.bool)
    assert presence_scores(foreground, background, embeddings, valid, "area").tolist() == [
        [3.0],
        [0.0],
    ]
    valid[0, 0] = False
    assert presence_scores(foreground, background, embeddings, valid, "area")[0, 0] == 2
    peak = presence_scores(foreground, background, embeddings, valid, "peak")[:, 0]
    assert peak[0] == pytest.approx(2 / (4 + 0.09) ** 0.5) and peak[1] == pytest.approx(0.0)


@pytest.mark.parametrize("score", ["area", "peak"])
def test_the_threshold_separates_the_reference_slices_with_and_without_the_class(score) -> None:
    embeddings, masks = slices([0, 2, 3, 2, 0, 0])
    valid = torch.ones(6, GRID, GRID, dtype=torch.bool)
    threshold = calibrated_thresholds(embeddings, {1: masks}, valid, {1: [1, 2, 3]}, score)[1]
    scores = presence_scores(
        torch.eye(256)[[0]], torch.eye(256)[[1]], embeddings, valid[0], score
    )[:, 0]
    present = scores >= threshold
    assert present.tolist() == [False, True, True, True, False, False]
    if score == "area":
        assert threshold == 1.0  # midway between 0 and 2 tokens: ties to the lowest


def test_a_class_on_one_reference_slice_cannot_be_calibrated_and_is_always_present() -> None:
    embeddings, masks = slices([0, 0, 3, 0])
    valid = torch.ones(4, GRID, GRID, dtype=torch.bool)
    thresholds = calibrated_thresholds(embeddings, {1: masks}, valid, {1: [2]}, "area")
    assert thresholds[1] == float("-inf")  # left out, no slice is left to learn it from


def test_each_slice_is_scored_with_the_prototypes_of_the_other_slices() -> None:
    embeddings, masks = slices([0, 2, 2, 0])
    embeddings[2, 0], embeddings[2, 3] = embeddings[2, 3], embeddings[2, 0].clone()
    embeddings[:, 2] = 0
    valid = torch.ones(4, GRID, GRID, dtype=torch.bool)
    # the two slices' class tokens share nothing: left out, each looks like its surroundings
    # to the other's prototype, so no threshold separates them from the absent slices
    thresholds = calibrated_thresholds(embeddings, {1: masks}, valid, {1: [1, 2]}, "area")
    assert thresholds[1] == 0.0
