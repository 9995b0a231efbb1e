"""Prediction never replaces an input, never breaks a concurrent run, never mixes settings, and
a failed run leaves no record claiming segmentations that do not exist."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from samseg.cli.predict import main
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor
from samseg.io import atomic
from tests.inference.helpers import blocky_case, write_image

FAST = ["-f", "0", "--disable_tta", "-device", "cpu", "-num_threads", "1"]


def predict(arguments: list[str]) -> None:
    main([*arguments, *FAST])


def refused(arguments: list[str], capsys) -> str:
    """Run samseg_predict, expect exit status 2, return stderr."""
    with pytest.raises(SystemExit) as exit_info:
        predict(arguments)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def two_cases(folder: Path) -> Path:
    for index in range(2):
        image, _ = blocky_case((3, 24, 30), seed=index)
        write_image(folder / f"case{index}_0000.nii.gz", image, (3.0, 0.8, 0.8))
    return folder


def test_an_input_is_never_replaced_by_its_segmentation(trained_model, tmp_path, capsys):
    image, _ = blocky_case((3, 24, 30))
    ct = write_image(tmp_path / "dir" / "ct.nii.gz", image, (3.0, 0.8, 0.8))
    before = ct.read_bytes()
    model = ["-m", str(trained_model.folder)]
    error = refused(["-i", str(ct), "-o", str(ct.parent), *model], capsys)
    assert f"{ct}: expected an output file that is not an input" in error
    (tmp_path / "link").symlink_to(ct.parent)
    error = refused(["-i", str(ct), "-o", str(tmp_path / "link"), *model], capsys)
    assert str(tmp_path / "link" / "ct.nii.gz") in error and str(ct) in error
    assert ct.read_bytes() == before
    assert sorted(p.name for p in ct.parent.iterdir()) == ["ct.nii.gz"]


def test_predicting_into_the_folder_of_channel_files_is_allowed(trained_model, tmp_path, caplog):
    folder = two_cases(tmp_path / "images")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    arguments = ["-i", str(folder), "-o", str(folder), "-m", str(trained_model.folder)]
    predict(arguments)
    predict([*arguments, "--continue_prediction"])
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert (folder / "case0.nii.gz").is_file() and (folder / "case1.nii.gz").is_file()
    assert "skipped" not in caplog.text, "the predictions are no unused input files"


def test_temporaries_of_live_processes_are_kept_and_stale_ones_removed(trained_model, tmp_path):
    images = two_cases(tmp_path / "images")
    output = tmp_path / "out"
    output.mkdir()
    ended = subprocess.Popen(["true"])
    ended.wait()
    live = output / f".{os.getppid()}-0123abcd.partial.case0.nii.gz"
    stale = output / f".{ended.pid}-0123abcd.partial.case0.nii.gz"
    old_style = output / ".0123456789ab.partial.case1.nii.gz"
    for path in (live, stale, old_style):
        path.write_bytes(b"in progress")
    predict(["-i", str(images), "-o", str(output), "-m", str(trained_model.folder)])
    assert live.read_bytes() == b"in progress"
    assert not stale.exists() and not old_style.exists()


def test_a_temporary_removed_by_another_process_is_one_clear_error(
    trained_model, tmp_path, monkeypatch
):
    images = two_cases(tmp_path / "images")
    replace = os.replace

    def lose_segmentations(source, target):
        if str(target).endswith(".nii.gz"):
            os.unlink(source)
        return replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", lose_segmentations)
    predictor = SlicePredictor.from_model_folder(
        trained_model.folder, [0], use_mirroring=False, show_progress=False
    )
    with pytest.raises(SamsegInputError, match="removed by another process") as error:
        predictor.predict_to_files({"case0": [images / "case0_0000.nii.gz"]}, tmp_path / "out")
    assert str(tmp_path / "out" / "case0.nii.gz") in str(error.value)


def test_settings_never_mix_in_one_folder_and_counts_are_reported(
    trained_model, tmp_path, capsys
):
    images = two_cases(tmp_path / "images")
    output = tmp_path / "out"
    arguments = ["-i", str(images), "-o", str(output), "-m", str(trained_model.folder)]
    predict(arguments)
    assert "2 case(s) predicted, 0 skipped" in capsys.readouterr().out
    outputs = {p.name: p.read_bytes() for p in output.iterdir()}

    for other in (["-step_size", "0.25"], ["--largest_component"]):
        error = refused([*arguments, *other, "--continue_prediction"], capsys)
        assert str(output / "prediction_settings.json") in error and "2 segmentations" in error
    one_case = ["-i", str(images / "case0_0000.nii.gz"), *arguments[2:]]
    error = refused([*one_case, "-step_size", "0.25"], capsys)
    assert "this run keeps 1 segmentations" in error
    checkpoint = trained_model.folder / "fold_0" / "checkpoint_final.pth"
    trained = checkpoint.stat()
    os.utime(checkpoint, (1, 1))
    error = refused([*arguments, "--continue_prediction"], capsys)
    assert "checkpoint_versions" in error
    assert {p.name: p.read_bytes() for p in output.iterdir()} == outputs
    os.utime(checkpoint, ns=(trained.st_atime_ns, trained.st_mtime_ns))

    (output / "case1.nii.gz").unlink()
    predict([*arguments, "--continue_prediction", "-batch_size", "3"])
    assert "1 case(s) predicted, 1 skipped" in capsys.readouterr().out
    (images / "case1_0000.nii.gz").write_bytes(b"broken after case0 is predicted")
    refused([*arguments, "-step_size", "0.25"], capsys)
    assert not (output / "prediction_settings.json").exists(), "replaced half-way: no record"
    error = refused([*arguments, "-step_size", "0.25", "--continue_prediction"], capsys)
    assert "found none" in error
    two_cases(images)
    predict([*arguments, "-step_size", "0.25"])
    predict([*arguments, "-step_size", "0.25", "-batch_size", "3", "--continue_prediction"])
    assert "0 case(s) predicted, 2 skipped" in capsys.readouterr().out
    settings = json.loads((output / "prediction_settings.json").read_text())
    assert settings["step_size"] == 0.25


def test_a_run_failing_before_its_first_case_leaves_no_record(trained_model, tmp_path, capsys):
    broken = tmp_path / "images" / "case0_0000.nii.gz"
    broken.parent.mkdir()
    broken.write_bytes(b"not an image")
    model = ["-m", str(trained_model.folder)]
    refused(["-i", str(broken.parent), "-o", str(tmp_path / "new"), *model], capsys)
    assert not (tmp_path / "new").exists()
    (tmp_path / "existing").mkdir()
    refused(["-i", str(broken.parent), "-o", str(tmp_path / "existing"), *model], capsys)
    assert list((tmp_path / "existing").iterdir()) == []
