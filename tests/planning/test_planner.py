"""Planning: slice axis, spacing, configurations, normalization, batch size, plans file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from samseg.dataset import DatasetDescription, LabelScheme
from samseg.errors import SamsegInputError
from samseg.planning import (
    DemoTinyPlanner,
    ResizeToFillPlanner,
    SliceSAMPlanner,
    SynapseCTWindowPlanner,
    planner_class,
)
from samseg.plans import Plans
from samseg.slice_frame import SliceFrame


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
    assert all(c.context_slices == 1 for c in plans.configurations.values())
    assert len({c.data_identifier for c in plans.configurations.values()}) == 1


def test_each_configuration_fixes_its_network_pixel_size_from_the_median_extent():
    plans = SliceSAMPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan()
    configurations = plans.configurations
    assert {c.slice_scaling for c in configurations.values()} == {"fixed_scale"}
    assert {c.large_slice_handling for c in configurations.values()} == {"sliding_window"}
    # median side 512: more than 1.5 x 256 -> windows at the target spacing; 512 fills 512;
    # 1024 doubles the resolution.
    assert [configurations[n].zoom for n in ("2d_256", "2d_512", "2d_1024")] == [1.0, 1.0, 2.0]
    assert plans.network_spacing("2d_256") == pytest.approx((0.775, 0.775))
    assert plans.network_spacing("2d_1024") == pytest.approx((0.3875, 0.3875))
    # median side 330 pixels at 1 mm: shrunk to fill 256 (zoom rounded down, still 256).
    smaller = fingerprint(spacings=[[3.0, 1.0, 1.0]] * 3, shapes=[[100, 300, 330]] * 3)
    configuration = SliceSAMPlanner("D", description(), smaller).plan().configurations["2d_256"]
    assert configuration.zoom == 0.7757
    assert round(330 * configuration.zoom) == 256 and round(300 * configuration.zoom) == 233


def test_resize_to_fill_planner_keeps_the_sam_ed_behaviour():
    plans = ResizeToFillPlanner("Dataset002_Synapse", description(), SYNAPSE_LIKE).plan()
    assert plans.plans_name == "samsegPlansResizeToFill"
    configurations = plans.configurations
    assert {c.slice_scaling for c in configurations.values()} == {"resize_to_fill"}
    assert configurations["2d_256"].large_slice_handling == "sliding_window"
    assert configurations["2d_512"].large_slice_handling == "resize"
    assert configurations["2d_1024"].large_slice_handling == "resize"
    assert plans.network_spacing("2d_512") is None
    assert planner_class("ResizeToFillPlanner") is ResizeToFillPlanner


def test_litemedsam_planner_plans_2d_256_from_the_tinyvit_family():
    planner = planner_class("LiteMedSAMPlanner")
    plans = planner("Dataset001_Demo", description(), SYNAPSE_LIKE).plan()
    assert plans.plans_name == "samsegLiteMedSAMPlans"
    assert list(plans.configurations) == ["2d_256"]
    configuration = plans.configurations["2d_256"]
    assert (configuration.model_type, configuration.input_size) == ("litemedsam", 256)
    assert configuration.context_slices == 0  # grey slices repeated, as LiteMedSAM was trained
    # 24 GB - 9.8 M x 16 B, over 7.4 GB x (256 / 512) ** 2 per slice: 12 slices.
    assert configuration.batch_size == 12
    assert configuration.data_identifier == "samsegLiteMedSAMPlans_2d"


DEMO_LIKE = fingerprint(
    spacings=[[5.0, 1.0, 1.0]] * 5,
    shapes=[[20, 102, 107], [20, 101, 111], [20, 104, 111], [20, 104, 114], [20, 103, 104]],
)


def test_demo_litemedsam_planner_fits_every_demo_case_in_one_window():
    windows = {}
    for name, configuration_name in (
        ("LiteMedSAMPlanner", "2d_256"),
        ("DemoLiteMedSAMPlanner", "2d_128"),
    ):
        plans = planner_class(name)("Dataset001_Demo", description(), DEMO_LIKE).plan()
        configuration = plans.configuration(configuration_name)
        shapes = [shape[1:] for shape in DEMO_LIKE["shapes_after_crop"]]
        frames = [SliceFrame.for_configuration(shape, configuration) for shape in shapes]
        windows[name] = [frame.tiles_per_slice for frame in frames]
    assert windows["DemoLiteMedSAMPlanner"] == [1] * 5
    assert max(windows["LiteMedSAMPlanner"]) > 1  # the median (111) fills 256: 114 needs two
    demo = DemoTinyPlanner("Dataset001_Demo", description(), DEMO_LIKE).plan()
    assert demo.configuration("2d_128").slice_scaling == "resize_to_fill"


def test_planner_refuses_unknown_model_types_and_sizes_the_family_rejects():
    class OddSize(SliceSAMPlanner):
        input_sizes = (250,)

    with pytest.raises(SamsegInputError, match="250"):
        OddSize("D", description(), SYNAPSE_LIKE).plan()

    class Unknown(SliceSAMPlanner):
        model_type = "vit_q"

    with pytest.raises(SamsegInputError, match=r"vit_q.*litemedsam"):
        Unknown("D", description(), SYNAPSE_LIKE).plan()


def test_plans_without_the_scaling_fields_resize_to_fill_as_before(tmp_path):
    plans = SliceSAMPlanner("D", description(), SYNAPSE_LIKE).plan()
    path = tmp_path / "samsegPlans.json"
    plans.save(path)
    data = json.loads(path.read_text())
    for configuration in data["configurations"].values():
        del configuration["slice_scaling"], configuration["zoom"]
    path.write_text(json.dumps(data))
    loaded = Plans.load(path).configuration("2d_512")
    assert (loaded.slice_scaling, loaded.zoom) == ("resize_to_fill", 1.0)


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"slice_scaling": "fill"}, r"2d_512: expected slice_scaling in .*found 'fill'"),
        ({"zoom": 0}, r"2d_512: expected a positive finite zoom, found 0"),
        ({"zoom": "2"}, r"2d_512.zoom: expected a number, found '2' \(a string\)"),
        ({"large_slice_handling": "resize"}, r"2d_512: expected large_slice_handling "),
    ],
)
def test_hand_edited_scaling_fields_are_validated(tmp_path, edits, message):
    path = tmp_path / "samsegPlans.json"
    SliceSAMPlanner("D", description(), SYNAPSE_LIKE).plan().save(path)
    data = json.loads(path.read_text())
    data["configurations"]["2d_512"].update(edits)
    path.write_text(json.dumps(data))
    with pytest.raises(SamsegInputError, match=message):
        Plans.load(path)


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
    data["configurations"]["2d_512"]["large_slice_handling"] = "sliding_window"
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
