"""Planning: slice axis, spacing, configurations, normalization, batch size, plans file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.errors import SamsegInputError
from samseg.planning import SliceSAMPlanner, SynapseCTWindowPlanner, planner_class
from samseg.plans import Plans


def description(channel_names=("CT",)) -> DatasetDescription:
    labels = LabelScheme.from_json({"background": 0, "liver": 1, "spleen": 2}, None, "d.json")
    return DatasetDescription(tuple(channel_names), labels, ".nii.gz", num_training=4)


def fingerprint(spacings, shapes) -> dict:
    stats = {
        "mean": 60.0,
        "median": 58.0,
        "std": 30.0,
        "min": -900.0,
        "max": 1500.0,
        "percentile_00_5": -80.0,
        "percentile_99_5": 240.0,
    }
    return {
        "spacings": spacings,
        "shapes_after_crop": shapes,
        "foreground_intensity_properties_per_channel": {"0": stats, "1": stats},
    }


SYNAPSE_LIKE = fingerprint(
    spacings=[[3.0, 0.7, 0.7], [5.0, 0.8, 0.8], [2.5, 0.75, 0.75], [3.0, 0.9, 0.9]],
    shapes=[[140, 512, 512], [90, 512, 512], [160, 512, 512], [120, 512, 512]],
)


def test_synapse_like_dataset_is_sliced_axially_at_median_in_plane_spacing():
    plans = SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan()
    assert plans.slice_axis == 0
    assert plans.transpose_forward == (0, 1, 2)
    assert plans.in_plane_target_spacing == pytest.approx((0.775, 0.775))
    # 512 voxels at 0.7/0.8/0.75/0.9 mm resampled to 0.775 mm: median of 462, 529, 495, 595
    assert plans.median_shape_after_resampling == (130, 512, 512)
    assert sorted(plans.configurations) == ["2d_1024", "2d_256", "2d_512"]
    assert plans.configurations["2d_256"].large_slice_handling == "sliding_window"
    assert plans.configurations["2d_512"].large_slice_handling == "resize"
    assert plans.configurations["2d_1024"].large_slice_handling == "resize"
    assert all(c.context_slices == 1 for c in plans.configurations.values())
    assert len({c.data_identifier for c in plans.configurations.values()}) == 1


def test_coarsest_axis_becomes_the_slice_axis():
    sagittal = fingerprint(spacings=[[0.9, 0.9, 4.0]] * 3, shapes=[[200, 180, 30]] * 3)
    plans = SliceSAMPlanner("Dataset005_Knee", description(), sagittal).plan()
    assert plans.slice_axis == 2
    assert plans.transpose_forward == (2, 0, 1)
    assert plans.transpose_backward == (1, 2, 0)
    assert plans.median_shape_after_resampling == (30, 200, 180)
    isotropic = fingerprint(spacings=[[1.0, 1.0, 1.0]] * 3, shapes=[[50, 60, 70]] * 3)
    assert SliceSAMPlanner("D", description(), isotropic).plan().slice_axis == 0


def test_batch_size_shrinks_with_input_size_and_respects_the_memory_target():
    planner = SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE)
    sizes = [planner.estimate_batch_size(s, 130) for s in (256, 512, 1024)]
    assert sizes[0] > sizes[1] > sizes[2] >= 1
    planner.gpu_memory_target_gb = 8.0
    assert planner.estimate_batch_size(512, 130) < sizes[1]
    tiny_dataset = fingerprint(spacings=[[3.0, 1.0, 1.0]], shapes=[[20, 64, 64]])
    assert SliceSAMPlanner("D", description(), tiny_dataset).estimate_batch_size(256, 20) == 1


def test_ct_uses_foreground_percentiles_or_the_planners_fixed_window():
    plans = SliceSAMPlanner("D", description(), SYNAPSE_LIKE).plan()
    assert (
        plans.normalization[0].scheme,
        plans.normalization[0].low,
        plans.normalization[0].high,
    ) == ("CTNormalization", -80.0, 240.0)
    window = SynapseCTWindowPlanner("D", description(), SYNAPSE_LIKE).plan()
    assert (window.normalization[0].low, window.normalization[0].high) == (-125.0, 275.0)
    assert window.plans_name == "samsegPlansSynapseWindow"


def test_multichannel_mr_uses_zscore_and_no_context_slices():
    plans = SliceSAMPlanner("D", description(("T2", "ADC")), SYNAPSE_LIKE).plan()
    assert [n.scheme for n in plans.normalization] == ["ZScoreNormalization"] * 2
    assert plans.configurations["2d_512"].context_slices == 0


def test_plans_round_trip_and_reject_bad_hand_edits(tmp_path):
    plans = SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan()
    path = tmp_path / "samsegPlans.json"
    plans.save(path)
    assert Plans.load(path) == plans
    data = json.loads(path.read_text())
    data["configurations"]["2d_512"]["large_slice_handling"] = "crop"
    path.write_text(json.dumps(data))
    with pytest.raises(SamsegInputError, match=r"2d_512.*large_slice_handling.*'crop'"):
        Plans.load(path)
    data["configurations"]["2d_512"]["large_slice_handling"] = "resize"
    data["normalization"][0]["scheme"] = "MinMax"
    path.write_text(json.dumps(data))
    with pytest.raises(SamsegInputError, match="MinMax"):
        Plans.load(path)
    del data["slice_axis"]
    path.write_text(json.dumps(data))
    with pytest.raises(SamsegInputError, match="slice_axis"):
        Plans.load(path)


def test_hand_edited_configuration_is_used(tmp_path):
    plans = SliceSAMPlanner("D", description(), SYNAPSE_LIKE).plan()
    path = tmp_path / "samsegPlans.json"
    plans.save(path)
    data = json.loads(path.read_text())
    data["configurations"]["2d_384"] = {**data["configurations"]["2d_512"], "input_size": 384}
    path.write_text(json.dumps(data))
    assert Plans.load(path).configuration("2d_384").input_size == 384
    with pytest.raises(SamsegInputError, match="2d_999"):
        Plans.load(path).configuration("2d_999")


def test_planners_are_found_by_name_or_dotted_path():
    assert planner_class("SliceSAMPlanner") is SliceSAMPlanner
    assert planner_class("samseg.planning.planner.SynapseCTWindowPlanner") is (
        SynapseCTWindowPlanner
    )
    with pytest.raises(SamsegInputError, match="SynapseCTWindowPlanner"):
        planner_class("NoSuchPlanner")
    with pytest.raises(SamsegInputError):
        planner_class("numpy.ndarray")


def test_slice_axis_ties_within_one_percent_prefer_z():
    assert SliceSAMPlanner.choose_slice_axis(np.array([1.0, 1.005, 0.5])) == 0
    assert SliceSAMPlanner.choose_slice_axis(np.array([1.0, 1.5, 0.5])) == 1
