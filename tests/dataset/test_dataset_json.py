"""dataset.json parsing and validation, case discovery, ``-d`` resolution and roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from samseg.dataset import DatasetDescription, LabelScheme, RawDataset, resolve_dataset_name
from samseg.errors import SamsegConfigError, SamsegInputError
from samseg.paths import preprocessed_root, raw_root, results_root

SOURCE = Path("dataset.json")


def write_description(folder: Path, **overrides) -> Path:
    data = {
        "channel_names": {"0": "T2", "1": "ADC"},
        "labels": {"background": 0, "PZ": 1, "TZ": 2},
        "numTraining": 0,
        "file_ending": ".nii.gz",
    }
    data.update(overrides)
    path = folder / "dataset.json"
    path.write_text(json.dumps(data))
    return path


def test_description_round_trips_and_keeps_extra_keys(tmp_path):
    path = write_description(tmp_path, name="Prostate", licence="CC-BY-SA")
    description = DatasetDescription.load(path)
    assert description.channel_names == ("T2", "ADC")
    assert description.labels.class_names == ["background", "PZ", "TZ"]
    assert description.to_json()["licence"] == "CC-BY-SA"
    path.write_text(json.dumps(description.to_json()))
    assert DatasetDescription.load(path) == description


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"labels": {"background": 0, "a": 1, "b": 3}}, r"consecutive label values.*missing \[2\]"),
        ({"labels": {"bg": 0, "a": 1}}, "'background' label with value 0"),
        ({"labels": {"background": 0, "a": "one"}}, "label 'a' to be an integer"),
        ({"file_ending": "nii.gz"}, "file_ending"),
        ({"numTraining": -1}, "numTraining"),
        ({"channel_names": {"0": "T2", "2": "ADC"}}, r"channel indices 0\.\.1"),
        ({"labels": {"background": 0, "ignore": 1, "a": 2}}, "ignore.*highest value"),
    ],
)
def test_invalid_description_is_an_error_naming_the_file(tmp_path, override, message):
    path = write_description(tmp_path, **override)
    with pytest.raises(SamsegInputError, match=message) as error:
        DatasetDescription.load(path)
    assert str(path) in str(error.value)


def test_missing_and_malformed_dataset_json(tmp_path):
    with pytest.raises(SamsegInputError, match="no such file"):
        DatasetDescription.load(tmp_path / "dataset.json")
    (tmp_path / "dataset.json").write_text('{"labels": ')
    with pytest.raises(SamsegInputError, match=r"valid JSON.*line 1"):
        DatasetDescription.load(tmp_path / "dataset.json")
    write_description(tmp_path, file_ending=None)
    (tmp_path / "dataset.json").write_text('{"labels": {"background": 0}}')
    with pytest.raises(SamsegInputError, match="found no channel_names, numTraining, file_ending"):
        DatasetDescription.load(tmp_path / "dataset.json")


def test_region_and_ignore_labels_follow_nnunet():
    scheme = LabelScheme.from_json(
        {
            "background": 0,
            "whole tumor": [1, 2, 3],
            "tumor core": [2, 3],
            "enhancing": 3,
            "ignore": 4,
        },
        [1, 2, 3],
        SOURCE,
    )
    assert scheme.has_regions
    assert scheme.num_classes == 4
    assert scheme.label_values == [0, 1, 2, 3, 4]
    assert scheme.foreground_values == [1, 2, 3]
    assert scheme.ignore_label == 4
    with pytest.raises(SamsegInputError, match="regions_class_order"):
        LabelScheme.from_json({"background": 0, "wt": [1, 2]}, None, SOURCE)


def test_case_listing_requires_every_channel_and_a_label(tmp_path):
    description = DatasetDescription.load(write_description(tmp_path))
    images, labels = tmp_path / "imagesTr", tmp_path / "labelsTr"
    images.mkdir()
    labels.mkdir()
    for name in ("b_0000.nii.gz", "b_0001.nii.gz", "a_0000.nii.gz", "a_0001.nii.gz"):
        (images / name).touch()
    (labels / "a.nii.gz").touch()
    with pytest.raises(SamsegInputError, match=r"b\.nii\.gz: expected the label of case b"):
        description.list_cases(images, labels)
    (labels / "b.nii.gz").touch()
    assert [c.identifier for c in description.list_cases(images, labels)] == ["a", "b"]
    (images / "b_0001.nii.gz").unlink()
    with pytest.raises(SamsegInputError, match=r"b_0001\.nii\.gz: expected channel 1 \(ADC\)"):
        description.list_cases(images, labels)


def test_num_training_must_match_the_cases_found(make_raw_dataset):
    folder = make_raw_dataset(num_cases=2)
    data = json.loads((folder / "dataset.json").read_text())
    data["numTraining"] = 5
    (folder / "dataset.json").write_text(json.dumps(data))
    with pytest.raises(SamsegInputError, match="numTraining=5 and 2 cases"):
        _ = RawDataset(folder).training_cases


@pytest.mark.parametrize("query", ["7", "007", 7, "Dataset007_Toy", "toy", "TOY"])
def test_dataset_resolution_accepts_id_folder_and_name(make_raw_dataset, roots, query):
    make_raw_dataset()
    assert resolve_dataset_name(query, [roots["raw"]]) == "Dataset007_Toy"
    assert RawDataset.find(query).folder == roots["raw"] / "Dataset007_Toy"


def test_unknown_or_ambiguous_dataset_lists_what_exists(roots):
    (roots["raw"] / "Dataset002_Synapse").mkdir()
    (roots["raw"] / "Dataset003_Synapse").mkdir()
    with pytest.raises(SamsegInputError, match="Dataset002_Synapse, Dataset003_Synapse"):
        resolve_dataset_name("Liver", [roots["raw"]])
    with pytest.raises(SamsegInputError, match="several"):
        resolve_dataset_name("synapse", [roots["raw"]])


def test_roots_fall_back_to_nnunet_and_name_both_when_unset(monkeypatch, tmp_path):
    for name in ("raw", "preprocessed", "results"):
        monkeypatch.delenv(f"SAMSEG_{name}", raising=False)
        monkeypatch.setenv(f"nnUNet_{name}", str(tmp_path / name))
    assert raw_root() == tmp_path / "raw"
    assert preprocessed_root() == tmp_path / "preprocessed"
    monkeypatch.setenv("SAMSEG_results", str(tmp_path / "mine"))
    assert results_root() == tmp_path / "mine"
    monkeypatch.delenv("nnUNet_raw")
    with pytest.raises(SamsegConfigError, match=r"SAMSEG_raw.*nnUNet_raw"):
        raw_root()
