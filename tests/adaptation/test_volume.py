"""P²SAM on volumes: the presence threshold, the slab, pooling, and the predictor hook."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from samseg.adaptation.presence import youden_threshold
from samseg.adaptation.slice_network import P2SAMSliceNetwork
from samseg.adaptation.volume import ReferenceVolume, VolumeSettings, single_view
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor
from samseg.io import SimpleITKIO
from samseg.models import build_sam
from samseg.preprocessing import preprocess_case
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

SPACING = (3.0, 0.8, 0.8)


def test_youden_threshold_separates_the_scores_and_ties_go_low() -> None:
    assert youden_threshold([0.8, 0.9, 0.7], [0.1, 0.3]) == pytest.approx(0.5)
    assert youden_threshold([0.5], []) == float("-inf")
    assert youden_threshold([], [0.5]) == float("-inf")
    # overlapping scores: the threshold with the best J (here 0.45 keeps 2/2 and drops 2/3)
    assert youden_threshold([0.5, 0.9], [0.2, 0.4, 0.6]) == pytest.approx(0.45)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("p2sam")
    plans = make_plans(input_size=64, large_slice_handling="resize", num_labels=2)
    image, label = blocky_case((12, 24, 28), num_labels=2, thin=False)
    paths = {}
    for name, origin_z in (("reference", 0.0), ("target", 9.0)):  # target shifted by 3 slices
        image_path = write_image(folder / f"{name}_0000.nii.gz", image, SPACING)
        label_path = write_image(folder / f"{name}.nii.gz", label, SPACING)
        for path in (image_path, label_path):
            volume = sitk.ReadImage(str(path))
            volume.SetOrigin((0.0, 0.0, origin_z))
            sitk.WriteImage(volume, str(path))
        paths[name] = (image_path, label_path)
    image_path, label_path = paths["reference"]
    reference = preprocess_case([image_path], label_path, plans, SimpleITKIO())
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 64, None, num_classes=2, precision="fp32").eval()
    return plans, reference, paths, network


def test_reference_volume_classes_extent_and_pooling(cases) -> None:
    plans, reference, _, network = cases
    configuration = next(iter(plans.configurations.values()))
    matched_settings = VolumeSettings(
        pooling="matched", slab_margin_mm=3.0, slab_margin_fraction=0.0
    )
    volume = ReferenceVolume(network, [reference], configuration, [1, 2], matched_settings)
    slices_with_1 = np.flatnonzero((reference.label[0] == 1).any(axis=(1, 2)))
    low, high = volume.classes[1].extent_mm
    assert (low, high) == pytest.approx((3.0 * slices_with_1[0], 3.0 * slices_with_1[-1]))
    assert volume.in_slab(1, high + 3.0) and not volume.in_slab(1, high + 3.1)
    matched = volume.features(1, position=3.0 * slices_with_1[2])
    local_settings = VolumeSettings(pooling="local", local_radius=1)
    local = ReferenceVolume(network, [reference], configuration, [1], local_settings)
    local = local.features(1, position=3.0 * slices_with_1[2])
    assert 0 < matched.count("foreground") < local.count("foreground")
    with pytest.raises(SamsegInputError, match=r"no voxel of \[5\]"):
        ReferenceVolume(network, [reference], configuration, [5])


def test_the_predictor_runs_p2sam_through_its_hooks_and_keeps_the_geometry(cases) -> None:
    plans, reference, paths, network = cases
    name, configuration = next(iter(plans.configurations.items()))
    settings = VolumeSettings(presence="always", slab_margin_mm=0.0, slab_margin_fraction=0.0)
    drawn = []
    p2sam = P2SAMSliceNetwork(
        network, configuration, [1, 2], 3, volume=settings, overlays=drawn.append
    )
    predictor = SlicePredictor(
        [p2sam], plans, name, make_description(plans), use_mirroring=False, show_progress=False
    )
    result = predictor.predict_case([paths["target"][0]], reference=reference)
    assert result.segmentation.shape == (12, 24, 28)
    assert result.geometry.origin == pytest.approx((0.0, 0.0, 9.0))
    # the target sits 9 mm (3 slices) higher. Class 1 fills reference slices 1..10 (3..30 mm),
    # so target slices 8..11 (33..42 mm) are outside its slab: not prompted, no mask there.
    # Class 2 fills reference slices 4..11 (12..33 mm): target slices 1..8.
    prompted = {(r["slice"], r["class_value"]) for r in p2sam.records if r["prompted"]}
    assert {s for s, v in prompted if v == 1} == set(range(8))
    assert {s for s, v in prompted if v == 2} == set(range(1, 9))
    assert not (result.segmentation[8:] == 1).any()
    assert not (result.segmentation[[0, 9, 10, 11]] == 2).any()
    assert {(d.slice_index, d.class_value) for d in drawn} == prompted
    assert all(d.image.shape == (64, 64, 3) and d.mask.shape == (64, 64) for d in drawn)
    with pytest.raises(SamsegInputError, match="needs an annotated reference"):
        predictor.predict_case([paths["target"][0]])
    with pytest.raises(SamsegInputError, match=r"promptable SAM network.*found Conv2d"):
        P2SAMSliceNetwork(torch.nn.Conv2d(3, 2, 1), configuration, [1, 2], 3)


def test_a_slice_that_fits_is_one_padded_view_whose_valid_region_is_the_slice() -> None:
    configuration = next(iter(make_plans(input_size=64).configurations.values()))
    fitted = replace(configuration, slice_scaling="fixed_scale", zoom=1.0)
    view = single_view((40, 60), fitted, "here")
    assert view.window is not None and not view.tiling.resizes
    rows = torch.nonzero(view.valid.any(dim=1)).flatten()
    columns = torch.nonzero(view.valid.any(dim=0)).flatten()
    extent = (rows[0].item(), rows[-1].item(), columns[0].item(), columns[-1].item())
    assert extent == (12, 51, 2, 61)  # 40 rows padded by 12 above, 60 columns by 2 left
    assert single_view((40, 60), configuration, "here").valid.all()  # resized to fill
    with pytest.raises(SamsegInputError, match="windows"):
        single_view((40, 300), replace(fitted, large_slice_handling="sliding_window"), "here")
