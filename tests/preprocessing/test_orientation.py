"""The training orientation: planned from the majority of the cases, and every training case
stored in another voxel order preprocesses to exactly the arrays it has when stored like the
others. Plans and fingerprints from before the orientation was recorded still work."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from samseg.planning import SliceSAMPlanner
from samseg.planning.workflow import plan_and_preprocess
from samseg.plans import Plans
from samseg.preprocessing import load_case, stored_identifiers
from tests.conftest import synthetic_case, write_volume
from tests.planning.test_planner import SYNAPSE_LIKE, description

SPACING = (3.0, 1.0, 0.8)
STORED_OTHERWISE = {"case1": "SAR", "case3": "IPL"}


def write_dataset(raw_root: Path, dataset_id: int, name: str, reoriented: dict[str, str]) -> None:
    """Four MR cases stored in LPS voxel order, except ``reoriented`` (identifier -> axis
    codes), which hold the same voxels resaved in that order."""
    folder = raw_root / f"Dataset{dataset_id:03d}_{name}"
    for index in range(4):
        identifier = f"case{index}"
        image, label = synthetic_case(index, shape=(8, 24, 28))
        image[:, :3], image[..., -2:] = 0, 0  # an asymmetric zero border: a real crop box
        files = {
            folder / "imagesTr" / f"{identifier}_0000.nii.gz": image,
            folder / "labelsTr" / f"{identifier}.nii.gz": label,
        }
        for path, array in files.items():
            write_volume(path, array, SPACING)
            if identifier in reoriented:
                resaved = sitk.DICOMOrient(sitk.ReadImage(str(path)), reoriented[identifier])
                sitk.WriteImage(resaved, str(path))
    description_json = {
        "channel_names": {"0": "MR"},
        "labels": {"background": 0, "organ_a": 1, "organ_b": 2},
        "numTraining": 4,
        "file_ending": ".nii.gz",
    }
    (folder / "dataset.json").write_text(json.dumps(description_json))


def test_cases_stored_in_another_axis_order_preprocess_like_the_others(roots):
    write_dataset(roots["raw"], 31, "Uniform", {})
    write_dataset(roots["raw"], 32, "Mixed", STORED_OTHERWISE)

    uniform = plan_and_preprocess("Uniform", num_processes=1)
    mixed = plan_and_preprocess("Mixed", num_processes=1)

    uniform_plans, mixed_plans = Plans.load(uniform.plans_path), Plans.load(mixed.plans_path)
    assert mixed_plans.orientation == uniform_plans.orientation == "LPS"
    ignored = {"dataset_name": "", "foreground_intensity_properties_per_channel": {}}
    assert dataclasses.replace(mixed_plans, **ignored) == dataclasses.replace(
        uniform_plans, **ignored
    )
    [uniform_folder], [mixed_folder] = uniform.preprocessed_folders, mixed.preprocessed_folders
    assert stored_identifiers(mixed_folder) == [f"case{i}" for i in range(4)]
    for identifier in stored_identifiers(uniform_folder):
        expected, found = load_case(uniform_folder, identifier), load_case(mixed_folder, identifier)
        np.testing.assert_array_equal(found.data[:], expected.data[:])
        np.testing.assert_array_equal(found.label[:], expected.label[:])
        assert found.properties.crop_box == expected.properties.crop_box
        assert found.properties.class_slices == expected.properties.class_slices
        assert found.properties.reorientation.is_identity == (identifier not in STORED_OTHERWISE)


def test_planner_uses_the_majority_orientation_and_reorients_spacings():
    # an axial case (3 mm slices along S) stored in ASL voxel order: its array axes (z, y, x)
    # point along L, S and A, so its spacing and shape read (L, S, A) = (0.7, 3.0, 0.7) ...
    stored_sagittally = {"spacing": [0.7, 3.0, 0.7], "shape": [512, 140, 512], "codes": "ASL"}
    # ... and (S, A, R) = (3.0, 0.7, 0.7) when stored like the other three (RAS)
    stored_axially = {"spacing": [3.0, 0.7, 0.7], "shape": [140, 512, 512], "codes": "RAS"}
    plans = []
    for fourth in (stored_sagittally, stored_axially):
        fingerprint = {
            **SYNAPSE_LIKE,
            "spacings": [*SYNAPSE_LIKE["spacings"][:3], fourth["spacing"]],
            "shapes_after_crop": [*SYNAPSE_LIKE["shapes_after_crop"][:3], fourth["shape"]],
            "orientations": ["RAS", "RAS", "RAS", fourth["codes"]],
        }
        plans.append(SliceSAMPlanner("Dataset002_Synapse", description(), fingerprint).plan())
    assert plans[0].orientation == "RAS"
    assert plans[0].slice_axis == 0
    assert plans[0] == plans[1]


def test_old_fingerprints_and_plans_have_no_orientation(tmp_path):
    plans = SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan()
    assert plans.orientation is None
    saved = plans.to_json()
    del saved["orientation"]
    (tmp_path / "old.json").write_text(json.dumps(saved))
    assert Plans.load(tmp_path / "old.json") == plans
