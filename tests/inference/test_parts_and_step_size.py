"""samseg_predict's -num_parts/-part_id (which cases a process predicts) and -step_size (how
densely sliding windows cover a slice)."""

from __future__ import annotations

import json

import numpy as np
import SimpleITK as sitk

from samseg.cli.predict import main
from samseg.inference import SlicePredictor, find_cases

FLAGS = ["-f", "0", "--disable_tta", "-device", "cpu", "-num_threads", "1"]


def segmentation_names(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("case*.nii.gz"))


def array(path) -> np.ndarray:
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def test_parts_split_the_sorted_cases_and_together_equal_one_run(
    trained_model, test_images, tmp_path
):
    model = ["-m", str(trained_model.folder), *FLAGS]
    parts = tmp_path / "parts"
    main(["-i", str(test_images), "-o", str(parts), *model, "-num_parts", "2", "-part_id", "1"])
    assert segmentation_names(parts) == ["case1.nii.gz"]
    main(["-i", str(test_images), "-o", str(parts), *model, "-num_parts", "2", "-part_id", "0"])
    assert segmentation_names(parts) == ["case0.nii.gz", "case1.nii.gz", "case2.nii.gz"]

    whole = tmp_path / "whole"
    main(["-i", str(test_images), "-o", str(whole), *model])
    for name in segmentation_names(whole):
        assert array(parts / name).tobytes() == array(whole / name).tobytes(), name


def test_step_size_sets_the_window_overlap_of_the_prediction(trained_model, test_images, tmp_path):
    arguments = ["-i", str(test_images / "case0_0000.nii.gz"), "-m", str(trained_model.folder)]
    arguments += [*FLAGS, "--save_probabilities"]
    default, dense = tmp_path / "default", tmp_path / "dense"
    main([*arguments, "-o", str(default)])
    main([*arguments, "-o", str(dense), "-step_size", "0.25"])

    settings = json.loads((dense / "prediction_settings.json").read_text())
    assert settings["step_size"] == 0.25
    assert json.loads((default / "prediction_settings.json").read_text())["step_size"] == 0.5
    found = np.load(dense / "case0.npz")["probabilities"]
    # case0's 90 columns: windows at 0 and 26 with step 0.5, at 0, 13 and 26 with step 0.25
    assert np.abs(found - np.load(default / "case0.npz")["probabilities"]).max() > 1e-3
    predictor = SlicePredictor.from_model_folder(
        trained_model.folder, [0], step_size=0.25, use_mirroring=False, show_progress=False
    )
    cases = find_cases([test_images], trained_model.description)
    expected = predictor.predict_case(cases["case0"], return_probabilities=True).probabilities
    np.testing.assert_array_equal(found, expected)
