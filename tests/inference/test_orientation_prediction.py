"""A test case stored in another voxel order than the training data is reoriented to the plans'
orientation for prediction and written back in its own geometry: an oracle network that knows
only the training-orientation ground truth scores Dice 1.0 on it."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from samseg.evaluation import dice
from samseg.inference import SlicePredictor
from samseg.io import NibabelIO, SimpleITKIO
from samseg.plans import Plans
from samseg.preprocessing import preprocess_case
from tests.inference.helpers import (
    ORIENTATIONS,
    OracleNetwork,
    blocky_case,
    make_description,
    make_plans,
    write_image,
)

SPACING = (3.0, 0.8, 0.8)


def training_like_case(tmp_path: Path) -> tuple[Path, Path]:
    """A case stored like the training data (LPS voxel order): image and label files."""
    image, label = blocky_case((6, 28, 40))
    image_path = write_image(tmp_path / "train" / "case_0000.nii.gz", image, SPACING)
    label_path = write_image(tmp_path / "train" / "case.nii.gz", label, SPACING)
    return image_path, label_path


def stored_as(path: Path, codes: str, folder: Path) -> Path:
    """The same voxels resaved in another voxel order (SimpleITK's DICOMOrient), same name."""
    target = folder / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(sitk.DICOMOrient(sitk.ReadImage(str(path)), codes), str(target))
    return target


def oracle_predictor(plans: Plans, image_path: Path, label_path: Path) -> SlicePredictor:
    """An oracle that knows the training-orientation ground truth of ``image_path``'s name."""
    reference = preprocess_case([image_path], label_path, plans, SimpleITKIO())
    [(name, configuration)] = plans.configurations.items()
    oracle = OracleNetwork(
        {image_path.name: reference.label[0]},
        plans.label_handling.num_classes,
        configuration.input_size,
        configuration.context_slices,
    )
    return SlicePredictor(
        [oracle], plans, name, make_description(plans), use_mirroring=False, show_progress=False
    )


@pytest.mark.parametrize("codes", ["RAS", "LPI", "ASL", "SRA", "IAR"])
def test_case_stored_in_another_axis_order_is_segmented_exactly(tmp_path, codes):
    plans = dataclasses.replace(
        make_plans(input_size=32, large_slice_handling="sliding_window"), orientation="LPS"
    )
    image_path, label_path = training_like_case(tmp_path)
    test_image = stored_as(image_path, codes, tmp_path / "test")
    expected = sitk.GetArrayFromImage(sitk.DICOMOrient(sitk.ReadImage(str(label_path)), codes))
    predictor = oracle_predictor(plans, image_path, label_path)

    [output] = predictor.predict_to_files({"case": [test_image]}, tmp_path / "out")

    written, source = sitk.ReadImage(str(output)), sitk.ReadImage(str(test_image))
    prediction = sitk.GetArrayFromImage(written)
    for value in range(1, 4):
        assert dice(expected == value, prediction == value) == 1.0
    np.testing.assert_array_equal(prediction, expected)
    assert written.GetSize() == source.GetSize()
    assert written.GetSpacing() == source.GetSpacing()
    assert written.GetOrigin() == source.GetOrigin()
    assert written.GetDirection() == source.GetDirection()


def test_probabilities_are_returned_in_the_inputs_voxel_order(tmp_path):
    plans = dataclasses.replace(make_plans(input_size=32), orientation="LPS")
    image_path, label_path = training_like_case(tmp_path)
    test_image = stored_as(image_path, "SAR", tmp_path / "test")
    expected = sitk.GetArrayFromImage(sitk.DICOMOrient(sitk.ReadImage(str(label_path)), "SAR"))
    predictor = oracle_predictor(plans, image_path, label_path)

    predicted = predictor.predict_case([test_image], return_probabilities=True)

    assert predicted.probabilities.shape == (4, *expected.shape)
    np.testing.assert_array_equal(predicted.probabilities.argmax(0), expected)
    np.testing.assert_array_equal(predicted.segmentation, expected)
    assert predicted.properties.reorientation.shape(expected.shape) == (6, 28, 40)


def test_nibabel_reader_reorients_the_same_way_and_keeps_the_exact_affine(tmp_path):
    plans = dataclasses.replace(make_plans(input_size=32), orientation="LPS")
    image_path, label_path = training_like_case(tmp_path)
    test_image = stored_as(image_path, "PIL", tmp_path / "test")
    expected = sitk.GetArrayFromImage(sitk.DICOMOrient(sitk.ReadImage(str(label_path)), "PIL"))
    predictor = oracle_predictor(plans, image_path, label_path)

    predicted = predictor.predict_case([test_image], reader_writer=NibabelIO())
    output = tmp_path / "out.nii.gz"
    NibabelIO().write_segmentation(predicted.segmentation, output, predicted.geometry)

    np.testing.assert_array_equal(predicted.segmentation, expected)
    np.testing.assert_array_equal(nib.load(output).affine, nib.load(test_image).affine)


def test_plans_without_orientation_warn_once_and_keep_the_stored_voxel_order(tmp_path, caplog):
    plans = make_plans(input_size=32)
    assert plans.orientation is None
    image, label = blocky_case((6, 28, 40))
    image_path = write_image(
        tmp_path / "in" / "case_0000.nii.gz", image, SPACING, ORIENTATIONS["RAS"]
    )
    label_path = write_image(tmp_path / "in" / "case.nii.gz", label, SPACING, ORIENTATIONS["RAS"])
    with caplog.at_level(logging.WARNING):
        predictor = oracle_predictor(plans, image_path, label_path)
        predicted = predictor.predict_case([image_path])

    [warning] = [r.getMessage() for r in caplog.records if "orientation" in r.getMessage()]
    assert "record no training orientation" in warning and "\n" not in warning

    assert predicted.properties.reorientation.is_identity
    np.testing.assert_array_equal(predicted.segmentation, label)
