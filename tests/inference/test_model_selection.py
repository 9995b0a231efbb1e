"""Which networks predict (default folds, repeated folds), checks naming the checkpoint, the
thread policy, --largest_component, and the warning about unused input files."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
import torch
from scipy import ndimage

from samseg.cli.predict import main
from samseg.errors import SamsegInputError
from samseg.inference import ModelFolder, SlicePredictor, find_cases
from samseg.io import SimpleITKIO
from tests.inference.conftest import write_model_folder
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image


def model_with_folds(tmp_path, folds):
    plans = make_plans(input_size=32, context_slices=0)
    folder = tmp_path / "T__samsegPlans__2d_32"
    return write_model_folder(folder, plans, make_description(plans), folds)


def fold_names(paths) -> list[str]:
    return [path.parent.name for path in paths]


def test_default_folds_leave_out_fold_all_unless_it_is_alone(tmp_path):
    model = ModelFolder.open(model_with_folds(tmp_path / "a", (0, 1, "all")).folder)
    assert fold_names(model.checkpoints(None)) == ["fold_0", "fold_1"]
    assert fold_names(model.checkpoints(["all"])) == ["fold_all"]
    assert fold_names(model.checkpoints(["0", "all"])) == ["fold_0", "fold_all"]
    alone = ModelFolder.open(model_with_folds(tmp_path / "b", ("all",)).folder)
    assert fold_names(alone.checkpoints(None)) == ["fold_all"]


def test_a_fold_named_twice_is_an_error(tmp_path):
    model = ModelFolder.open(model_with_folds(tmp_path, (0, 1)).folder)
    with pytest.raises(SamsegInputError, match="more than once"):
        model.checkpoints(["0", "1", "0"])


def test_class_count_and_input_size_mismatches_name_the_checkpoint(tmp_path):
    model = model_with_folds(tmp_path, (0,))
    checkpoint = model.folder / "fold_0" / "checkpoint_final.pth"
    make_plans(input_size=32, context_slices=0, num_labels=5).save(model.folder / "plans.json")
    with pytest.raises(SamsegInputError, match="output classes") as error:
        SlicePredictor.from_model_folder(model.folder, [0])
    assert str(error.value).startswith(f"{checkpoint}: ")
    wider = make_plans(input_size=48, context_slices=0)
    renamed = {"2d_32": wider.configurations["2d_48"]}
    dataclasses.replace(wider, configurations=renamed).save(model.folder / "plans.json")
    with pytest.raises(SamsegInputError, match="input size 48") as error:
        SlicePredictor.from_model_folder(model.folder, [0])
    assert str(error.value).startswith(f"{checkpoint}: ")


def test_samseg_predict_uses_the_training_thread_policy(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("samseg.threads.os.cpu_count", lambda: 6)
    arguments = ["-i", str(tmp_path), "-o", str(tmp_path / "o"), "-m", str(tmp_path / "none")]
    for extra, expected in (([], 5), (["-num_threads", "2"], 2)):
        torch.set_num_threads(1)
        with pytest.raises(SystemExit):
            main([*arguments, *extra])
        assert torch.get_num_threads() == expected
    capsys.readouterr()


def components_per_label(segmentation: np.ndarray) -> dict[int, int]:
    structure = np.ones((3, 3, 3), dtype=bool)
    return {
        int(value): ndimage.label(segmentation == value, structure)[1]
        for value in np.unique(segmentation)
        if value != 0
    }


def test_largest_component_flag_keeps_one_component_per_label(trained_model, test_images, tmp_path):
    image = test_images / "case0_0000.nii.gz"
    outputs = {}
    for name, flag in (("plain", []), ("largest", ["--largest_component"])):
        main(
            [*("-i", str(image), "-o", str(tmp_path / name), "-m", str(trained_model.folder)),
             *("-f", "0", "--disable_tta", "-device", "cpu", "-num_threads", "1", *flag)]
        )
        outputs[name] = SimpleITKIO().read_segmentation(tmp_path / name / "case0.nii.gz")[0][0]
    assert max(components_per_label(outputs["plain"]).values()) > 1, "test needs two components"
    assert set(components_per_label(outputs["largest"]).values()) == {1}
    kept = outputs["largest"] > 0
    np.testing.assert_array_equal(outputs["largest"][kept], outputs["plain"][kept])


def test_unused_files_of_an_input_folder_are_listed_in_a_warning(tmp_path, caplog):
    description = make_description(make_plans())
    image, _ = blocky_case((2, 12, 12))
    folder = tmp_path / "images"
    for name in ("a_0000.nii.gz", "a_0001.nii.gz", "b.nii.gz", "a.nii.gz", ".hidden.nii.gz"):
        write_image(folder / name, image, (3.0, 1.0, 1.0))
    for name in ("notes.txt", "plans.json", "a.json"):
        (folder / name).write_text("{}")
    with caplog.at_level(logging.WARNING, logger="samseg.inference.inputs"):
        cases = find_cases([folder], description)
    assert list(cases) == ["a"]
    [record] = caplog.records
    message = record.getMessage()
    assert "a_0001.nii.gz (channel 1 of case a)" in message
    assert "b.nii.gz" in message and "notes.txt" in message
    assert "CASE_XXXX.nii.gz" in message
    for output in ("a.nii.gz", "plans.json", "a.json", ".hidden"):
        assert output not in message.replace("a_0001.nii.gz", "")
