"""A hand-edited plans file with a wrong value type: one line naming file, key, expected, found."""

from __future__ import annotations

import json

import pytest

from samseg.errors import SamsegInputError
from samseg.planning import SliceSAMPlanner
from samseg.plans import Plans
from tests.planning.test_planner import SYNAPSE_LIKE, description


@pytest.fixture
def plans_file(tmp_path):
    path = tmp_path / "samsegPlans.json"
    SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan().save(path)
    return path


def edit(path, keys: tuple, value) -> None:
    data = json.loads(path.read_text())
    inner = data
    for key in keys[:-1]:
        inner = inner[key]
    inner[keys[-1]] = value
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("keys", "value", "message"),
    [
        (("slice_axis",), "0", r"slice_axis: expected an integer, found '0' \(a string\)"),
        (("slice_axis",), True, r"slice_axis: expected an integer, found True \(a boolean\)"),
        (("dataset_name",), 2, r"dataset_name: expected a string, found 2 \(an integer\)"),
        (("target_spacing",), 3.0, r"target_spacing: expected a list of 3 numbers, found 3.0"),
        (("target_spacing",), [3.0, 1.0], r"target_spacing: expected a list of 3 numbers"),
        (("transpose_forward", 1), "1", r"transpose_forward\[1\]: expected an integer"),
        (("gpu_memory_target_gb",), "24", r"gpu_memory_target_gb: expected a number"),
        (("normalization",), {"scheme": "CT"}, r"normalization: expected a list of objects"),
        (("normalization", 0), "CT", r"normalization\[0\]: expected an object, found 'CT'"),
        (("normalization", 0, "low"), "-80", r"normalization\[0\].low: expected a number"),
        (("label_handling", "class_names"), "liver", r"class_names: expected a list of strings"),
        (("label_handling", "label_values", 1), 1.5, r"label_values\[1\]: expected an integer"),
        (("label_handling", "ignore_label"), "3", r"ignore_label: expected an integer"),
        (("configurations",), [], r"configurations: expected an object, found \[\] \(a list\)"),
        (
            ("configurations", "2d_512", "batch_size"),
            "8",
            r"configurations.2d_512.batch_size: expected an integer, found '8' \(a string\)",
        ),
        (
            ("configurations", "2d_512", "sliding_window_step"),
            None,
            r"configurations.2d_512.sliding_window_step: expected a number, found None \(null\)",
        ),
        (("configurations", "2d_512", "batchsize"), 8, r"2d_512: expected only the keys"),
        (("orientation",), 5, r"orientation: expected a string, found 5"),
    ],
)
def test_wrong_value_type_names_file_key_expected_and_found(plans_file, keys, value, message):
    edit(plans_file, keys, value)
    with pytest.raises(SamsegInputError, match=message) as error:
        Plans.load(plans_file)
    assert str(error.value).startswith(f"{plans_file}: ")
    assert "\n" not in str(error.value)


def test_missing_nested_key_is_named(plans_file):
    data = json.loads(plans_file.read_text())
    del data["configurations"]["2d_256"]["model_type"]
    plans_file.write_text(json.dumps(data))
    expected = r"configurations.2d_256: expected the key 'model_type'"
    with pytest.raises(SamsegInputError, match=expected):
        Plans.load(plans_file)


def test_optional_entries_may_be_null_or_absent(plans_file):
    data = json.loads(plans_file.read_text())
    data["label_handling"]["ignore_label"] = 3
    data["label_handling"].pop("resampling")
    data.pop("orientation", None)
    plans_file.write_text(json.dumps(data))
    plans = Plans.load(plans_file)
    assert plans.label_handling.ignore_label == 3
    assert plans.label_handling.resampling == "one_hot_linear"
    assert plans.orientation is None
    assert isinstance(plans.target_spacing, tuple) and isinstance(plans.target_spacing[0], float)
