"""An untrained vit_tiny ensemble runs end to end through samseg_predict from a model folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.cli.predict import main
from samseg.inference import SlicePredictor, find_cases
from samseg.io import SimpleITKIO
from tests.inference.conftest import CONFIGURATION, TRAINER


def test_samseg_predict_writes_every_case_in_its_input_geometry(
    trained_model, test_images, tmp_path
):
    output = tmp_path / "predictions"
    main(
        [
            *("-i", str(test_images), "-o", str(output), "-d", "950", "-c", CONFIGURATION),
            *("-tr", TRAINER, "-f", "0", "1", "-device", "cpu", "--save_probabilities"),
        ]
    )
    for index in range(3):
        image = sitk.ReadImage(str(test_images / f"case{index}_0000.nii.gz"))
        written = sitk.ReadImage(str(output / f"case{index}.nii.gz"))
        assert written.GetSize() == image.GetSize()
        assert written.GetSpacing() == image.GetSpacing()
        assert written.GetOrigin() == image.GetOrigin()
        assert written.GetDirection() == image.GetDirection()
        segmentation = sitk.GetArrayFromImage(written)
        probabilities = np.load(output / f"case{index}.npz")["probabilities"]
        assert probabilities.dtype == np.float32
        assert probabilities.shape == (4, *segmentation.shape)
        np.testing.assert_allclose(probabilities.sum(0), 1, atol=1e-5)
        np.testing.assert_array_equal(probabilities.argmax(0), segmentation)
        properties = json.loads((output / f"case{index}.json").read_text())
        assert properties["class_names"] == list(trained_model.plans.label_handling.class_names)
    settings = json.loads((output / "prediction_settings.json").read_text())
    assert settings["num_networks"] == 2 and settings["use_mirroring"]
    assert (output / "plans.json").is_file() and (output / "dataset.json").is_file()


def test_model_folder_flag_and_api_give_the_same_segmentation(trained_model, test_images, tmp_path):
    output = tmp_path / "predictions"
    main(
        [
            *("-i", str(test_images / "case1_0000.nii.gz"), "-o", str(output)),
            *("-m", str(trained_model.folder), "-f", "0", "--disable_tta", "-device", "cpu"),
            *("-num_threads", "1"),
        ]
    )
    from_file = SimpleITKIO().read_segmentation(output / "case1.nii.gz")[0][0]
    predictor = SlicePredictor.from_model_folder(
        trained_model.folder, [0], use_mirroring=False, show_progress=False
    )
    predicted = predictor.predict_case([test_images / "case1_0000.nii.gz"])
    np.testing.assert_array_equal(predicted.segmentation, from_file)
    assert predicted.probabilities is None


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_reduced_precision_stays_close_to_fp32(trained_model, test_images, precision):
    cases = find_cases([test_images], trained_model.description)
    options = {"use_mirroring": False, "show_progress": False}
    reference = SlicePredictor.from_model_folder(trained_model.folder, [0], **options)
    reduced = SlicePredictor.from_model_folder(
        trained_model.folder, [0], precision=precision, **options
    )
    expected = reference.predict_case(cases["case2"], return_probabilities=True)
    found = reduced.predict_case(cases["case2"], return_probabilities=True)
    difference = np.abs(expected.probabilities - found.probabilities).max()
    assert 1e-6 < difference < 0.1, "the precision must change the arithmetic, but only a little"
