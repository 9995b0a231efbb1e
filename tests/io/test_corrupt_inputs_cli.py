"""A truncated NIfTI file ends each command in one error line naming it, with exit status 2."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
import SimpleITK as sitk
import torch

from samseg.cli import evaluate, plan_and_preprocess, predict
from tests.inference.conftest import write_model_folder
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

MODEL_FOLDER = "SAMLoRATrainer__samsegPlans__2d_64"


def cut_in_half(path: Path) -> Path:
    """Cut a ``.nii.gz`` half-way through its voxel data, as an interrupted copy would.

    The file is stored uncompressed inside gzip first, so that a tiny file's half still holds
    its whole header (SimpleITK then reads it, filling the missing voxels with 0).
    """
    stored = gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=0)
    path.write_bytes(stored[: len(stored) // 2])
    return path


def single_error_line(main: Callable[[list[str]], None], arguments: list[str], capsys) -> str:
    """Run ``main``, expect exit status 2 and return its one ``error:`` line."""
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    return errors[0]


def test_plan_and_preprocess_refuses_a_truncated_label(make_raw_dataset, roots, capsys):
    label = cut_in_half(make_raw_dataset() / "labelsTr" / "case01.nii.gz")
    error = single_error_line(plan_and_preprocess.main, ["-d", "Toy", "-np", "1"], capsys)
    assert str(label) in error and "truncated" in error
    assert not (roots["preprocessed"] / "Dataset007_Toy" / "samsegPlans.json").exists()


def test_predict_refuses_a_truncated_image(roots, tmp_path, capsys):
    plans = make_plans(input_size=64)
    model = write_model_folder(tmp_path / MODEL_FOLDER, plans, make_description(plans), (0,))
    image, _ = blocky_case((4, 36, 44))
    path = cut_in_half(write_image(tmp_path / "in" / "case0_0000.nii.gz", image, (3.0, 0.8, 0.8)))
    output = tmp_path / "out"
    arguments = ["-i", str(path.parent), "-o", str(output), "-m", str(model.folder), "-f", "0"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        error = single_error_line(predict.main, [*arguments, "-device", "cpu"], capsys)
    finally:
        torch.set_num_threads(threads)
    assert str(path) in error and "truncated" in error
    assert not list(output.glob("*.nii.gz"))


def test_evaluate_refuses_a_truncated_prediction(make_raw_dataset, tmp_path, capsys):
    raw = make_raw_dataset()
    predictions = tmp_path / "pred"
    predictions.mkdir()
    for label in sorted((raw / "labelsTr").iterdir()):
        image = sitk.ReadImage(str(label))
        sitk.WriteImage(image, str(predictions / label.name))
    cut = cut_in_half(predictions / "case01.nii.gz")
    arguments = ["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-d", "Toy"]
    error = single_error_line(evaluate.main, arguments, capsys)
    assert str(cut) in error and "truncated" in error
    assert not (predictions / "summary.json").exists()
