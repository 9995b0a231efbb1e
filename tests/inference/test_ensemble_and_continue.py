"""Fold ensembles average their probabilities; --continue_prediction leaves finished cases
untouched and predicts only the rest."""

from __future__ import annotations

import os

import numpy as np
import SimpleITK as sitk

from samseg.cli.predict import main
from samseg.inference import SlicePredictor, find_cases

OPTIONS = {"use_mirroring": False, "show_progress": False}


def test_an_ensemble_of_two_folds_is_the_mean_of_their_probabilities(trained_model, test_images):
    cases = find_cases([test_images], trained_model.description)

    def probabilities(folds: list[int]) -> np.ndarray:
        predictor = SlicePredictor.from_model_folder(trained_model.folder, folds, **OPTIONS)
        return predictor.predict_case(cases["case1"], return_probabilities=True).probabilities

    first, second, both = probabilities([0]), probabilities([1]), probabilities([0, 1])
    assert np.abs(first - second).max() > 0.05, "the two folds must predict differently"
    np.testing.assert_allclose(both, (first + second) / 2, rtol=0, atol=1e-6)


def content(path) -> np.ndarray:
    """The array a segmentation (.nii.gz) or probability (.npz) file holds."""
    if path.suffix == ".npz":
        return np.load(path)["probabilities"]
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


def file_stamps(folder) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every file in ``folder``, by name."""
    return {p.name: (os.stat(p).st_ino, os.stat(p).st_mtime_ns) for p in folder.iterdir()}


def test_continue_prediction_keeps_finished_cases_and_predicts_the_rest(
    trained_model, test_images, tmp_path, capsys
):
    output = tmp_path / "predictions"
    arguments = ["-i", str(test_images), "-o", str(output), "-m", str(trained_model.folder)]
    arguments += ["-f", "0", "--disable_tta", "-device", "cpu", "--save_probabilities"]
    main(arguments)
    complete = sorted(p.name for p in output.iterdir())
    redone = ("case1.nii.gz", "case1.npz", "case2.npz")
    expected = {name: content(output / name) for name in redone}
    for name in redone:
        (output / name).unlink()
    finished = {n: s for n, s in file_stamps(output).items() if n.startswith("case0")}

    main([*arguments, "--continue_prediction"])

    assert {n: s for n, s in file_stamps(output).items() if n in finished} == finished
    assert sorted(p.name for p in output.iterdir()) == complete
    for name in redone:
        assert content(output / name).tobytes() == expected[name].tobytes(), name
    assert "3 segmentations" in capsys.readouterr().out
