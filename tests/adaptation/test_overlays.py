"""P²SAM's overlay pictures: the mask, the points and the box where the record says."""

from __future__ import annotations

import numpy as np
from PIL import Image

from samseg.adaptation.overlays import PromptedSlice, write_overlay


def prompted(points, labels, box=None) -> PromptedSlice:
    mask = np.zeros((64, 64), dtype=bool)
    mask[10:30, 10:30] = True
    candidate = {
        "positive_parts": int(sum(labels)),
        "negative_parts": len(labels) - int(sum(labels)),
        "points": points,
        "labels": labels,
        "box": box,
        "wasserstein": 1.5,
    }
    image = np.full((64, 64, 3), 40, dtype=np.uint8)
    return PromptedSlice("case_1", 7, 2, image, mask, candidate)


def colour_fraction(path, colour) -> float:
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return float((np.abs(pixels - np.asarray(colour)).sum(axis=2) < 60).mean())


def test_an_overlay_shows_the_positive_and_negative_points_and_the_box(tmp_path) -> None:
    with_points = write_overlay(prompted([[20.0, 20.0], [50.0, 50.0]], [1, 0]), tmp_path / "a")
    assert with_points.name == "case_1_slice0007_class2.png"
    assert colour_fraction(with_points, (0, 255, 0)) > 0  # lime +
    assert colour_fraction(with_points, (255, 0, 0)) > 0  # red x
    boxed = write_overlay(prompted([], [], box=[5.0, 5.0, 40.0, 40.0]), tmp_path / "b")
    assert colour_fraction(boxed, (0, 255, 0)) == 0 and colour_fraction(boxed, (255, 0, 0)) == 0
    assert colour_fraction(boxed, (255, 255, 0)) > 0  # yellow box
    assert not list((tmp_path / "b").glob("*.tmp*"))
