"""``samseg_plan_and_preprocess`` end to end, and every kind of bad input it must report."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.cli.plan_and_preprocess import main
from samseg.plans import Plans
from samseg.preprocessing import load_case, stored_identifiers
from tests.conftest import SHARED_DATA, write_volume

IMAGE = "imagesTr/case01_0000.nii.gz"
LABEL = "labelsTr/case01.nii.gz"


def run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plans_and_preprocesses_a_dataset_and_reuses_it(make_raw_dataset, roots, capsys):
    make_raw_dataset(num_cases=3)
    code, out, _ = run(capsys, "-d", "Toy", "-np", "1")
    assert code == 0
    folder = roots["preprocessed"] / "Dataset007_Toy"
    fingerprint = json.loads((folder / "samseg_dataset_fingerprint.json").read_text())
    assert fingerprint["spacings"] == [[3.0, 1.0, 1.0]] * 3
    assert fingerprint["class_voxel_counts"]["1"] == 3 * 4 * 8 * 8
    assert fingerprint["class_slice_counts"]["1"] == [3 * 4, 3 * 8, 3 * 8]
    stats = fingerprint["foreground_intensity_properties_per_channel"]["0"]
    assert stats["percentile_00_5"] < stats["median"] < stats["percentile_99_5"]
    plans = Plans.load(folder / "samsegPlans.json")
    assert plans.dataset_name == "Dataset007_Toy"
    assert json.loads((folder / "samseg_dataset.json").read_text())["labels"]["organ_b"] == 2
    data_folder = folder / "samsegPlans_2d"
    assert sorted(p.name for p in data_folder.glob("*.json")) == [
        "case00.json",
        "case01.json",
        "case02.json",
    ]
    assert "samsegPlans_2d" in out
    code, out, _ = run(capsys, "-d", "7", "-np", "1")
    assert code == 0
    assert "reused" in out and "kept" in out


def test_one_worker_and_two_workers_give_the_same_fingerprint_plans_and_cases(
    make_raw_dataset, roots, capsys
):
    make_raw_dataset(num_cases=3)
    folder = roots["preprocessed"] / "Dataset007_Toy"

    def outputs() -> tuple[dict, dict, dict[str, np.ndarray]]:
        fingerprint = json.loads(next(folder.glob("*fingerprint*.json")).read_text())
        plans = json.loads((folder / "samsegPlans.json").read_text())
        arrays = {}
        for identifier in stored_identifiers(folder / "samsegPlans_2d"):
            case = load_case(folder / "samsegPlans_2d", identifier)
            arrays[f"{identifier} data"] = np.asarray(case.data[:])
            arrays[f"{identifier} label"] = np.asarray(case.label[:])
        return fingerprint, plans, arrays

    assert run(capsys, "-d", "Toy", "-np", "1")[0] == 0
    fingerprint, plans, arrays = outputs()
    assert len(arrays) == 6
    shutil.rmtree(folder)
    assert run(capsys, "-d", "Toy", "-np", "2")[0] == 0
    found_fingerprint, found_plans, found_arrays = outputs()
    assert found_fingerprint == fingerprint and found_plans == plans
    assert sorted(found_arrays) == sorted(arrays)
    for name, array in arrays.items():
        assert found_arrays[name].tobytes() == array.tobytes(), name


def expect_failure(capsys, roots, *names: str) -> str:
    code, _, err = run(capsys, "-d", "Toy", "-np", "1")
    assert code == 2
    message = next(line for line in err.splitlines() if line.startswith("error: "))
    for name in names:
        assert name in message
    folder = roots["preprocessed"] / "Dataset007_Toy"
    assert not (folder / "samsegPlans.json").exists()
    assert not (folder / "samseg_dataset_fingerprint.json").exists()
    return message


def test_missing_dataset_json(make_raw_dataset, roots, capsys):
    (make_raw_dataset() / "dataset.json").unlink()
    expect_failure(capsys, roots, "dataset.json", "no such file")


def test_malformed_dataset_json(make_raw_dataset, roots, capsys):
    (make_raw_dataset() / "dataset.json").write_text("{not json")
    expect_failure(capsys, roots, "dataset.json", "valid JSON")


def test_label_values_not_declared(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / LABEL)))
    label[0, 0, 0] = 5
    write_volume(folder / LABEL, label)
    expect_failure(capsys, roots, "case01.nii.gz", "found [5]")


def test_image_label_shape_mismatch(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    write_volume(folder / LABEL, np.zeros((8, 24, 20), np.uint8))
    expect_failure(capsys, roots, "case01.nii.gz", "(8, 24, 28)", "(8, 24, 20)")


def test_image_label_spacing_mismatch(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / LABEL)))
    write_volume(folder / LABEL, label, spacing_zyx=(5.0, 1.0, 1.0))
    expect_failure(capsys, roots, "case01.nii.gz", "spacing")


def test_label_direction_mismatch_names_both_directions(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / LABEL)))
    tilted = (0.99995, -0.01, 0, 0.01, 0.99995, 0, 0, 0, 1)
    write_volume(folder / LABEL, label, direction=tilted)
    message = expect_failure(capsys, roots, "case01.nii.gz", "case01_0000.nii.gz", "direction")
    assert "direction (0.99995, -0.01, 0, 0.01, 0.99995, 0, 0, 0, 1), not (1, 0, 0, 0, 1" in message
    assert "spacing" not in message and "origin" not in message


def test_missing_channel_file(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    (folder / IMAGE).unlink()
    expect_failure(capsys, roots, "case01_0000.nii.gz")


def test_corrupt_image(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    (folder / IMAGE).write_bytes(b"\x1f\x8b truncated")
    expect_failure(capsys, roots, "case01_0000.nii.gz", "readable image")


def test_nan_intensities(make_raw_dataset, roots, capsys):
    """Read through nibabel: SimpleITK's NIfTI reader turns NaN and inf into 0."""
    folder = make_raw_dataset()
    description = json.loads((folder / "dataset.json").read_text())
    description["overwrite_image_reader_writer"] = "NibabelIO"
    (folder / "dataset.json").write_text(json.dumps(description))
    image = sitk.GetArrayFromImage(sitk.ReadImage(str(folder / IMAGE))).astype(np.float32)
    image[2, 3, 4] = np.inf
    write_volume(folder / IMAGE, image)  # SimpleITK writes the inf; its NIfTI reader drops it
    expect_failure(capsys, roots, "case01_0000.nii.gz", "NaN or infinite")


def test_two_dimensional_image_in_a_three_dimensional_dataset(make_raw_dataset, roots, capsys):
    folder = make_raw_dataset()
    image = sitk.GetImageFromArray(np.zeros((24, 28), np.int16))
    sitk.WriteImage(image, str(folder / IMAGE))
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((24, 28), np.uint8)), str(folder / LABEL))
    expect_failure(capsys, roots, "case01_0000.nii.gz", "3D image", "2D image")


@pytest.mark.parametrize("processes", ["1", "2"])
def test_empty_label_warns_on_its_own_line_and_keeps_the_case(
    make_raw_dataset, roots, capsys, processes
):
    folder = make_raw_dataset()
    write_volume(folder / LABEL, np.zeros((8, 24, 28), np.uint8))
    code, _, err = run(capsys, "-d", "Toy", "-np", processes)
    assert code == 0
    expected = f"warning: {folder / LABEL}: the label is empty (no foreground); the case is kept"
    assert expected in err.replace("\r", "\n").splitlines()
    assert ".py:" not in err and "UserWarning" not in err
    assert (roots["preprocessed"] / "Dataset007_Toy" / "samsegPlans_2d" / "case01.json").exists()


def test_unknown_dataset_lists_existing_ones(make_raw_dataset, roots, capsys):
    make_raw_dataset()
    code, _, err = run(capsys, "-d", "Liver")
    assert code == 2
    assert "Dataset007_Toy" in err


@pytest.mark.skipif(
    not (SHARED_DATA / "Dataset901_AbdomenCTExample").is_dir(), reason="../shared/data absent"
)
def test_real_data_abdominal_ct_plans_and_preprocesses(roots, capsys):
    shutil.copytree(
        SHARED_DATA / "Dataset901_AbdomenCTExample", roots["raw"] / "Dataset901_AbdomenCTExample"
    )
    code, _, _ = run(capsys, "-d", "AbdomenCTExample", "-np", "1")
    assert code == 0
    folder = roots["preprocessed"] / "Dataset901_AbdomenCTExample"
    plans = Plans.load(folder / "samsegPlans.json")
    assert plans.in_plane_target_spacing == pytest.approx((3.0, 3.0), abs=0.01)
    assert plans.label_handling.num_classes == 9
    assert (folder / "samsegPlans_2d" / "abd_001.json").is_file()


def test_fingerprint_without_orientations_is_recomputed(make_raw_dataset, roots, capsys):
    """A fingerprint from before orientations were recorded would give plans without one."""
    make_raw_dataset(num_cases=2)
    folder = roots["preprocessed"] / "Dataset007_Toy"
    assert run(capsys, "-d", "Toy", "--no_pp")[0] == 0
    path = folder / "samseg_dataset_fingerprint.json"
    fingerprint = json.loads(path.read_text())
    del fingerprint["orientations"]
    path.write_text(json.dumps(fingerprint))
    assert run(capsys, "-d", "Toy", "--no_pp")[0] == 0
    assert "orientations" in json.loads(path.read_text())
