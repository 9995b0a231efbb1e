"""Simulated prompts: boxes, interior points and corrective clicks on masks with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samseg.prompting import (
    PromptMode,
    corrective_click,
    farthest_interior_point,
    random_interior_points,
    tight_box,
    tight_boxes,
)


def rectangle(shape=(20, 30), rows=(4, 11), columns=(6, 21)) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[rows[0] : rows[1], columns[0] : columns[1]] = True
    return mask


def test_tight_box_is_the_inclusive_extent_as_x_y() -> None:
    mask = rectangle()
    assert tight_box(mask).tolist() == [6, 4, 20, 10]
    assert tight_box(np.zeros((5, 5), bool)) is None


def test_tight_boxes_match_the_numpy_box_per_mask() -> None:
    rng = np.random.default_rng(0)
    masks = rng.random((5, 17, 23)) > 0.97
    masks[2] = False
    boxes, present = tight_boxes(torch.from_numpy(masks))
    assert present.tolist() == [m.any() for m in masks]
    for mask, box in zip(masks, boxes, strict=True):
        expected = tight_box(mask)
        assert box.tolist() == ([0.0] * 4 if expected is None else expected.tolist())


def test_farthest_interior_point_is_the_centre_and_the_image_edge_is_border() -> None:
    # 7 rows (4..10) and 15 columns (6..20): row 7, columns 9..17 are equally deep; the
    # middle one, column 13, is taken
    assert farthest_interior_point(rectangle()).tolist() == [13, 7]
    # a mask that fills the image: the edge is border, so the centre wins, not a corner
    full = np.ones((9, 9), dtype=bool)
    assert farthest_interior_point(full).tolist() == [4, 4]
    assert farthest_interior_point(np.zeros((4, 4), bool)) is None


def test_random_interior_points_are_distinct_mask_pixels_and_seeded() -> None:
    mask = rectangle()
    points = random_interior_points(mask, 6, np.random.default_rng(3))
    again = random_interior_points(mask, 6, np.random.default_rng(3))
    assert np.array_equal(points, again)
    assert all(mask[int(y), int(x)] for x, y in points)
    assert len({tuple(p) for p in points}) == 6
    tiny = np.zeros((4, 4), bool)
    tiny[1, 2] = True
    assert random_interior_points(tiny, 3, np.random.default_rng(0)).tolist() == [[2, 1]] * 3
    with pytest.raises(ValueError, match="at least 1"):
        random_interior_points(mask, 0, np.random.default_rng(0))


def test_corrective_click_goes_to_the_largest_error_region_with_its_sign() -> None:
    target = rectangle()
    # empty prediction: one missed region, the whole object -> its centre, positive
    first = corrective_click(np.zeros_like(target), target)
    assert (first.x, first.y, first.positive) == (13, 7, True)
    # prediction = target plus a large false-positive block and a small missed corner
    prediction = target.copy()
    prediction[13:20, 0:12] = True  # 84 false-positive pixels
    prediction[4, 6] = False  # 1 missed pixel
    click = corrective_click(prediction, target)
    assert not click.positive
    assert 13 <= click.y < 20 and 0 <= click.x < 12
    assert corrective_click(target, target) is None


def test_prompt_modes_parse_and_refuse() -> None:
    assert PromptMode.parse("box") == PromptMode("box")
    assert PromptMode.parse("clicks:5") == PromptMode("clicks", 5)
    assert str(PromptMode.parse("points:3")) == "points:3"
    assert PromptMode.parse("clicks:4").steps == 4
    for bad in ("boxes", "points", "clicks:0", "point:2", "clicks:x"):
        with pytest.raises(ValueError, match=r"box\|point"):
            PromptMode.parse(bad)
