"""An oracle network that returns the ground truth makes the whole pipeline exact: crop,
transpose, in-plane resampling, resizing or sliding windows, flips and export back into the
raw geometry lose nothing (Dice 1.0 for every class, bit-identical geometry)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.evaluation import dice
from samseg.inference import SlicePredictor
from samseg.io import SimpleITKIO
from samseg.plans import Plans
from samseg.preprocessing import load_case, preprocess_case, save_case
from tests.inference.helpers import (
    ORIENTATIONS,
    OracleNetwork,
    blocky_case,
    make_description,
    make_plans,
    write_image,
)


def oracle_prediction(
    tmp_path: Path,
    image: np.ndarray,
    label: np.ndarray,
    spacing: tuple[float, float, float],
    plans: Plans,
    *,
    direction=ORIENTATIONS["LPS"],
    use_mirroring: bool = True,
) -> tuple[np.ndarray, Path, OracleNetwork]:
    """Write the case, predict it with an oracle built from its preprocessed label."""
    image_path = write_image(tmp_path / "in" / "case_0000.nii.gz", image, spacing, direction)
    label_path = write_image(tmp_path / "labels" / "case.nii.gz", label, spacing, direction)
    reference = preprocess_case([image_path], label_path, plans, SimpleITKIO())
    name, configuration = next(iter(plans.configurations.items()))
    oracle = OracleNetwork(
        {image_path.name: reference.label[0]},
        plans.label_handling.num_classes,
        configuration.input_size,
        configuration.context_slices,
    )
    predictor = SlicePredictor(
        [oracle],
        plans,
        name,
        make_description(plans),
        use_mirroring=use_mirroring,
        show_progress=False,
    )
    [output] = predictor.predict_to_files({"case": [image_path]}, tmp_path / "out")
    return SimpleITKIO().read_segmentation(output)[0][0], image_path, oracle


def assert_exact(prediction: np.ndarray, label: np.ndarray, image_path: Path) -> None:
    for value in np.unique(label)[1:]:
        assert dice(label == value, prediction == value) == 1.0
    np.testing.assert_array_equal(prediction, label)
    written = sitk.ReadImage(str(image_path.parent.parent / "out" / "case.nii.gz"))
    source = sitk.ReadImage(str(image_path))
    assert written.GetSize() == source.GetSize()
    assert written.GetSpacing() == source.GetSpacing()
    assert written.GetOrigin() == source.GetOrigin()
    assert written.GetDirection() == source.GetDirection()


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
@pytest.mark.parametrize(
    ("handling", "input_size", "shape"),
    [("resize", 64, (6, 40, 46)), ("sliding_window", 32, (6, 28, 70))],
)
def test_oracle_is_exact_for_every_orientation(tmp_path, orientation, handling, input_size, shape):
    image, label = blocky_case(shape)
    plans = make_plans(input_size=input_size, large_slice_handling=handling)
    prediction, image_path, oracle = oracle_prediction(
        tmp_path, image, label, (3.0, 0.8, 0.8), plans, direction=ORIENTATIONS[orientation]
    )
    assert_exact(prediction, label, image_path)
    assert oracle.calls > 0


@pytest.mark.parametrize("handling", ["resize", "sliding_window"])
def test_oracle_is_exact_when_the_slice_axis_is_not_z(tmp_path, handling):
    image, label = blocky_case((30, 36, 5)[::-1])
    image, label = image.transpose(2, 1, 0).copy(), label.transpose(2, 1, 0).copy()
    plans = make_plans(
        input_size=32,
        large_slice_handling=handling,
        transpose_forward=(2, 0, 1),
        target_spacing=(0.7, 0.9, 2.5),
    )
    prediction, image_path, _ = oracle_prediction(
        tmp_path, image, label, (0.7, 0.9, 2.5), plans, direction=ORIENTATIONS["RAS"]
    )
    assert_exact(prediction, label, image_path)


def test_oracle_is_exact_through_in_plane_resampling(tmp_path):
    image, label = blocky_case((5, 44, 52), thin=False)
    image[image == 0] = -1000
    plans = make_plans(input_size=32, large_slice_handling="resize", target_spacing=(3, 0.8, 0.8))
    prediction, image_path, _ = oracle_prediction(tmp_path, image, label, (3.0, 0.4, 0.4), plans)
    assert_exact(prediction, label, image_path)


def test_oracle_is_exact_with_region_based_labels(tmp_path):
    image, label = blocky_case((6, 30, 34))
    regions = {"whole": (1, 2, 3), "core": (2, 3), "active": (3,)}
    plans = make_plans(input_size=32, large_slice_handling="sliding_window", regions=regions)
    image_path = write_image(tmp_path / "in" / "case_0000.nii.gz", image, (3.0, 0.8, 0.8))
    label_path = write_image(tmp_path / "labels" / "case.nii.gz", label, (3.0, 0.8, 0.8))
    reference = preprocess_case([image_path], label_path, plans, SimpleITKIO())
    oracle = OracleNetwork(
        {image_path.name: reference.label[0]}, 4, 32, 1, regions=list(regions.values())
    )
    predictor = SlicePredictor(
        [oracle], plans, "2d_32", make_description(plans), show_progress=False
    )
    predicted = predictor.predict_case([image_path], return_probabilities=True)
    np.testing.assert_array_equal(predicted.segmentation, label)
    assert predicted.probabilities.shape == (4, *label.shape)
    np.testing.assert_array_equal(predicted.probabilities[1] > 0.5, label > 0)


def test_stored_preprocessed_case_predicts_like_the_raw_one(tmp_path):
    image, label = blocky_case((6, 30, 70))
    plans = make_plans(input_size=32, large_slice_handling="sliding_window")
    image_path = write_image(tmp_path / "in" / "case_0000.nii.gz", image, (3.0, 0.8, 0.8))
    label_path = write_image(tmp_path / "labels" / "case.nii.gz", label, (3.0, 0.8, 0.8))
    reference = preprocess_case([image_path], label_path, plans, SimpleITKIO())
    save_case(tmp_path / "stored", "case", reference.data, reference.label, reference.properties)
    oracle = OracleNetwork({image_path.name: reference.label[0]}, 4, 32, 1)
    predictor = SlicePredictor(
        [oracle], plans, "2d_32", make_description(plans), show_progress=False
    )
    stored = predictor.predict_preprocessed(load_case(tmp_path / "stored", "case"))
    np.testing.assert_array_equal(stored.segmentation, label)
    assert stored.geometry == reference.properties.geometry


@pytest.mark.parametrize(
    ("zoom", "shape", "thin"),
    [(1.0, (6, 28, 70), True), (2.0, (6, 28, 40), True), (0.5, (6, 40, 84), False)],
)
def test_oracle_is_exact_at_a_fixed_scale(tmp_path, zoom, shape, thin):
    """Windows and padding at zoom 1; slices resampled into the frame and back at zoom 2 and
    0.5 (blocks on even voxels survive halving)."""
    image, label = blocky_case(shape, thin=thin)
    plans = make_plans(input_size=32, large_slice_handling="sliding_window")
    scaled = replace(plans.configurations["2d_32"], slice_scaling="fixed_scale", zoom=zoom)
    plans = replace(plans, configurations={"2d_32": scaled})
    spacing = (3.0, 0.8, 0.8)
    prediction, image_path, oracle = oracle_prediction(tmp_path, image, label, spacing, plans)
    assert_exact(prediction, label, image_path)
    assert oracle.calls > 0
