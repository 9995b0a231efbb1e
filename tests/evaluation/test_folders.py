"""evaluate_folders: summary.json format, missing cases, bad input, overlays, worker processes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from samseg.dataset import LabelScheme
from samseg.errors import SamsegInputError
from samseg.evaluation import (
    METRIC_NAMES,
    EvaluationLabels,
    evaluate_arrays,
    evaluate_folders,
    format_table,
)
from tests.conftest import synthetic_case, write_volume

SPACING = (3.0, 1.0, 1.0)
SCHEME = LabelScheme.from_json(
    {"background": 0, "organ_a": 1, "organ_b": 2}, None, Path("dataset.json")
)


def make_folders(tmp_path: Path, num_cases: int = 3) -> tuple[Path, Path]:
    """``ref/`` and ``pred/`` with ``case00..``; predictions are shifted references."""
    for index in range(num_cases):
        _, label = synthetic_case(index)
        prediction = np.roll(label, 1, axis=2)
        if index == 1:
            prediction[prediction == 2] = 0  # organ_b missed in case01
        write_volume(tmp_path / "ref" / f"case{index:02d}.nii.gz", label, SPACING)
        write_volume(tmp_path / "pred" / f"case{index:02d}.nii.gz", prediction, SPACING)
    return tmp_path / "ref", tmp_path / "pred"


def test_summary_json_has_nnunets_structure(tmp_path):
    reference, prediction = make_folders(tmp_path)
    summary = evaluate_folders(reference, prediction, SCHEME, ".nii.gz")
    data = json.loads((prediction / "summary.json").read_text())
    assert list(data)[:3] == ["foreground_mean", "mean", "metric_per_case"]
    assert set(data["mean"]) == {"1", "2"}
    assert len(data["metric_per_case"]) == 3
    first = data["metric_per_case"][0]
    assert set(first) == {"metrics", "prediction_file", "reference_file"}
    assert first["reference_file"] == str(reference / "case00.nii.gz")
    assert first["prediction_file"] == str(prediction / "case00.nii.gz")
    assert tuple(first["metrics"]["1"]) == METRIC_NAMES
    assert isinstance(first["metrics"]["1"]["TP"], int)
    _, label = synthetic_case(0)
    expected = evaluate_arrays(label, np.roll(label, 1, axis=2), summary.labels, SPACING)
    assert first["metrics"]["2"]["HD95"] == pytest.approx(expected["2"]["HD95"])
    per_case = [c["metrics"]["2"]["Dice"] for c in data["metric_per_case"]]
    assert data["mean"]["2"]["Dice"] == pytest.approx(np.mean(per_case))
    assert math.isnan(data["metric_per_case"][1]["metrics"]["2"]["HD95"])
    hd95_defined = [c["metrics"]["2"]["HD95"] for c in data["metric_per_case"]]
    assert data["mean"]["2"]["HD95"] == pytest.approx(np.nanmean(hd95_defined))
    assert data["foreground_mean"]["Dice"] == pytest.approx(
        (data["mean"]["1"]["Dice"] + data["mean"]["2"]["Dice"]) / 2
    )
    assert data["settings"]["class_names"] == {"1": "organ_a", "2": "organ_b"}
    assert data["settings"]["hd95_unit"] == "mm"
    assert data["missing_cases"] == []
    table = format_table(summary)
    assert "organ_b" in table and "for 1 case/class pairs where only one" in table


def test_missing_prediction_is_an_error_listing_the_missing_cases(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=4)
    (prediction / "case01.nii.gz").unlink()
    (prediction / "case03.nii.gz").unlink()
    with pytest.raises(SamsegInputError) as error:
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz")
    message = str(error.value)
    assert "case01, case03" in message and "case00" not in message and "--allow_missing" in message
    assert not (prediction / "summary.json").exists()


def test_missing_prediction_allowed_is_reported_and_the_rest_evaluated(tmp_path):
    reference, prediction = make_folders(tmp_path)
    (prediction / "case01.nii.gz").unlink()
    write_volume(prediction / "stray.nii.gz", synthetic_case(0)[1], SPACING)
    summary = evaluate_folders(reference, prediction, SCHEME, ".nii.gz", allow_missing=True)
    assert [c.identifier for c in summary.cases] == ["case00", "case02"]
    assert "1 case without a prediction, in no mean: case01" in format_table(summary)
    data = json.loads((prediction / "summary.json").read_text())
    assert data["missing_cases"] == [
        {
            "case": "case01",
            "reference_file": str(reference / "case01.nii.gz"),
            "expected_prediction_file": str(prediction / "case01.nii.gz"),
        }
    ]
    assert data["predictions_without_reference"] == [str(prediction / "stray.nii.gz")]


def test_requested_cases_only(tmp_path):
    reference, prediction = make_folders(tmp_path)
    (prediction / "case00.nii.gz").unlink()
    summary = evaluate_folders(reference, prediction, SCHEME, ".nii.gz", cases=["case01"])
    assert [c.identifier for c in summary.cases] == ["case01"] and not summary.missing_cases
    with pytest.raises(SamsegInputError, match="case07"):
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz", cases=["case07"])


def test_label_outside_the_dataset_is_an_error_naming_the_file(tmp_path):
    reference, prediction = make_folders(tmp_path)
    _, label = synthetic_case(2)
    label[0, 0, 0] = 5
    write_volume(prediction / "case02.nii.gz", label, SPACING)
    with pytest.raises(SamsegInputError, match=r"case02\.nii\.gz.*found \[5\]"):
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz")


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({"spacing_zyx": (2.0, 1.0, 1.0)}, "spacing"),
        ({"origin": (0.0, 0.0, 0.0)}, "origin"),
        ({"direction": (-1, 0, 0, 0, -1, 0, 0, 0, 1)}, "direction"),
        ({"shape": (8, 24, 27)}, "shape"),
    ],
)
def test_geometry_mismatch_is_an_error_naming_both_files(tmp_path, change, differs):
    reference, prediction = make_folders(tmp_path, num_cases=1)
    _, label = synthetic_case(0)
    if "shape" in change:
        label = label[..., :-1]
    keywords = {k: v for k, v in change.items() if k != "shape"}
    write_volume(prediction / "case00.nii.gz", label, **{"spacing_zyx": SPACING, **keywords})
    with pytest.raises(SamsegInputError) as error:
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz")
    message = str(error.value)
    assert str(prediction / "case00.nii.gz") in message
    assert str(reference / "case00.nii.gz") in message
    assert differs in message


def test_unreadable_prediction_is_an_error_naming_it(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=2)
    (prediction / "case01.nii.gz").write_bytes(b"not an image")
    with pytest.raises(SamsegInputError, match=r"case01\.nii\.gz"):
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz")


def test_unwritable_output_is_an_error_before_any_work(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=1)
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SamsegInputError, match="a_file"):
        evaluate_folders(
            reference, prediction, SCHEME, ".nii.gz", output_file=blocker / "summary.json"
        )
    with pytest.raises(SamsegInputError, match=r"\.json"):
        evaluate_folders(reference, prediction, SCHEME, ".nii.gz", output_file=tmp_path / "s.txt")


def test_nothing_to_evaluate_is_an_error(tmp_path):
    reference, _ = make_folders(tmp_path, num_cases=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SamsegInputError, match="found none"):
        evaluate_folders(reference, tmp_path / "empty", SCHEME, ".nii.gz", allow_missing=True)


def test_overlays_are_written_over_the_image(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=1)
    image, _ = synthetic_case(0)
    write_volume(tmp_path / "images" / "case00_0000.nii.gz", image, SPACING)
    evaluate_folders(
        reference,
        prediction,
        SCHEME,
        ".nii.gz",
        overlays_folder=tmp_path / "overlays",
        image_folders=[tmp_path / "images"],
    )
    pngs = sorted(p.name for p in (tmp_path / "overlays").iterdir())
    assert pngs == ["case00_organ_a.png", "case00_organ_b.png"]
    pixels = imread(tmp_path / "overlays" / pngs[0])[..., :3]
    grey = (np.ptp(pixels, axis=-1) < 0.01) & (pixels[..., 0] > 0.05) & (pixels[..., 0] < 0.95)
    assert np.count_nonzero(grey) > 20000  # the image is drawn under the contours (text: ~2000)
    lime = (pixels[..., 1] > 0.5) & (pixels[..., 0] < 0.3) & (pixels[..., 2] < 0.3)
    red = (pixels[..., 0] > 0.5) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert np.count_nonzero(lime) > 50 and np.count_nonzero(red) > 50


def test_two_processes_equal_one(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=4)
    one = evaluate_folders(
        reference, prediction, SCHEME, ".nii.gz", output_file=tmp_path / "one.json"
    )
    two = evaluate_folders(
        reference,
        prediction,
        SCHEME,
        ".nii.gz",
        output_file=tmp_path / "two.json",
        num_processes=2,
    )
    first = json.loads((tmp_path / "one.json").read_text())
    second = json.loads((tmp_path / "two.json").read_text())
    assert json.dumps(first["metric_per_case"]) == json.dumps(second["metric_per_case"])
    assert one.mean.keys() == two.mean.keys()


def test_hand_given_labels_infer_the_file_ending_and_take_an_ignore_label(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=1)
    _, label = synthetic_case(0)
    label[:, :, :3] = 3
    write_volume(reference / "case00.nii.gz", label, SPACING)
    summary = evaluate_folders(reference, prediction, [1, 2], ignore_label=3)
    assert summary.labels == EvaluationLabels.from_values([1, 2], ignore_label=3)
    assert summary.cases[0].metrics["1"]["TN"] == np.count_nonzero(
        (label != 3) & (label != 1) & (np.roll(synthetic_case(0)[1], 1, axis=2) != 1)
    )


def test_synapse_protocol_is_recorded(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=2)
    summary = evaluate_folders(reference, prediction, SCHEME, ".nii.gz", synapse_protocol=True)
    data = json.loads((prediction / "summary.json").read_text())
    assert data["settings"]["protocol"] == "synapse" and data["settings"]["hd95_unit"] == "voxels"
    missed = summary.cases[1].metrics["2"]
    assert (missed["Dice"], missed["HD95"]) == (0.0, 0.0)
    assert summary.mean["2"]["HD95"] == pytest.approx(summary.cases[0].metrics["2"]["HD95"] / 2)


def test_mean_of_defined_classes_leaves_out_undefined_ones_and_names_them(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=2)
    _, label = synthetic_case(0)
    false_positive = np.roll(label, 1, axis=2)
    false_positive[0, 0, 0] = 3  # one voxel of class 3, absent from every reference
    write_volume(prediction / "case00.nii.gz", false_positive, SPACING)
    summary = evaluate_folders(reference, prediction, [1, 2, 3, 4])
    data = json.loads((prediction / "summary.json").read_text())
    assert math.isnan(data["foreground_mean"]["HD95"])  # nnU-Net's value is kept
    assert math.isnan(data["foreground_mean"]["Dice"])  # class 4: in no file at all
    defined = data["foreground_mean_of_defined_classes"]
    means = data["mean"]
    assert defined["HD95"] == pytest.approx((means["1"]["HD95"] + means["2"]["HD95"]) / 2)
    assert means["3"]["Dice"] == 0.0
    assert defined["Dice"] == pytest.approx(
        (means["1"]["Dice"] + means["2"]["Dice"] + means["3"]["Dice"]) / 3
    )
    assert data["classes_left_out_of_defined_mean"] == {
        "Dice": ["4"],
        "IoU": ["4"],
        "HD95": ["3", "4"],
        "NSD": ["4"],
    }
    table = format_table(summary).splitlines()
    row = next(line for line in table if line.startswith("mean of defined classes "))
    columns = (("Dice", 4), ("IoU", 4), ("HD95", 2), ("NSD", 4))
    assert row.split()[-4:] == [f"{defined[metric]:.{digits}f}" for metric, digits in columns]
    assert any("label 3 (HD95), label 4 (Dice, IoU, HD95, NSD)" in line for line in table)


def test_no_defined_mean_row_when_every_class_is_defined(tmp_path):
    reference, prediction = make_folders(tmp_path, num_cases=2)
    summary = evaluate_folders(reference, prediction, SCHEME, ".nii.gz")
    assert summary.defined_foreground_mean == summary.foreground_mean
    assert summary.left_out_of_defined_mean == {}
    assert "mean of defined classes" not in format_table(summary)
