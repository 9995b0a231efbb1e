"""samseg_evaluate end to end: -d and -l, printed table, missing cases, exit code 2."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.cli.evaluate import main


def predictions_from_labels(raw_folder, destination):
    """Copy labelsTr to ``destination`` with every label shifted one voxel along x."""
    destination.mkdir()
    for path in sorted((raw_folder / "labelsTr").iterdir()):
        image = sitk.ReadImage(str(path))
        shifted = sitk.GetImageFromArray(np.roll(sitk.GetArrayFromImage(image), 1, axis=2))
        shifted.CopyInformation(image)
        sitk.WriteImage(shifted, str(destination / path.name))
    return destination


def test_dataset_evaluation_prints_the_table_and_writes_the_summary(
    make_raw_dataset, tmp_path, capsys
):
    raw = make_raw_dataset()
    predictions = predictions_from_labels(raw, tmp_path / "pred")
    main(["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-d", "Toy"])
    printed = capsys.readouterr().out
    assert "3 cases, means over cases" in printed and "without a prediction" not in printed
    assert "organ_a" in printed and "organ_b" in printed and "foreground mean" in printed
    assert "HD95 (mm)" in printed and "NSD@2mm" in printed
    data = json.loads((predictions / "summary.json").read_text())
    assert len(data["metric_per_case"]) == 3 and data["missing_cases"] == []


@pytest.mark.parametrize("flag", ["--allow_missing", "--allow-missing"])
def test_missing_predictions_need_the_allow_missing_flag(make_raw_dataset, tmp_path, capsys, flag):
    raw = make_raw_dataset()
    predictions = predictions_from_labels(raw, tmp_path / "pred")
    (predictions / "case02.nii.gz").unlink()
    arguments = ["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-d", "Toy"]
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("error: ") and "case02" in error and "--allow_missing" in error
    assert not (predictions / "summary.json").exists()
    main([*arguments, flag])
    printed = capsys.readouterr().out
    assert "2 cases, means over cases" in printed
    assert "1 case without a prediction, in no mean: case02" in printed
    assert "missing prediction: case case02" in printed
    data = json.loads((predictions / "summary.json").read_text())
    assert len(data["metric_per_case"]) == 2
    assert data["missing_cases"][0]["case"] == "case02"


def test_hand_given_labels_output_file_and_synapse_protocol(make_raw_dataset, tmp_path, capsys):
    raw = make_raw_dataset(num_cases=2)
    predictions = predictions_from_labels(raw, tmp_path / "pred")
    output = tmp_path / "out" / "s.json"
    arguments = ["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-l", "1", "2"]
    main([*arguments, "-o", str(output), "--synapse-protocol", "--nsd-tolerance", "1"])
    printed = capsys.readouterr().out
    assert "label 1" in printed and "HD95 (voxels)" in printed and "NSD@1mm" in printed
    data = json.loads(output.read_text())
    assert data["settings"]["nsd_tolerance_mm"] == 1.0
    assert data["settings"]["protocol"] == "synapse"


def test_overlays_take_the_datasets_images(make_raw_dataset, tmp_path):
    raw = make_raw_dataset(num_cases=1)
    predictions = predictions_from_labels(raw, tmp_path / "pred")
    overlays = tmp_path / "overlays"
    arguments = ["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-d", "7"]
    main([*arguments, "--overlays", str(overlays)])
    assert sorted(p.name for p in overlays.iterdir()) == [
        "case00_organ_a.png",
        "case00_organ_b.png",
    ]


def test_bad_input_exits_with_2_and_names_the_file(make_raw_dataset, tmp_path, capsys):
    raw = make_raw_dataset(num_cases=1)
    predictions = tmp_path / "pred"
    predictions.mkdir()
    shutil.copy(raw / "imagesTr" / "case00_0000.nii.gz", predictions / "case00.nii.gz")
    with pytest.raises(SystemExit) as exit_info:
        main(["-ref", str(raw / "labelsTr"), "-pred", str(predictions), "-d", "7"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith("error: ") and str(predictions / "case00.nii.gz") in error


def test_unknown_dataset_and_conflicting_flags(make_raw_dataset, tmp_path, capsys):
    raw = make_raw_dataset(num_cases=1)
    with pytest.raises(SystemExit) as exit_info:
        main(["-ref", str(raw / "labelsTr"), "-pred", str(tmp_path), "-d", "Nope"])
    assert exit_info.value.code == 2 and "Dataset007_Toy" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["-ref", str(raw / "labelsTr"), "-pred", str(tmp_path), "-d", "7", "-il", "3"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        main(["-ref", str(raw / "labelsTr"), "-pred", str(tmp_path), "-l", "-1"])
