"""P²SAM with each case's own prior scan: the folder API's references, ``adapt_with_priors``
(each case's output is what its own reference implies) and ``samseg_predict --adaptor``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from torch import nn

from samseg.adaptation import AdaptorSettings, VolumeSettings
from samseg.adaptation.priors import adapt_with_priors
from samseg.adaptation.run import adapt_to_folder
from samseg.cli import adapt as adapt_cli
from samseg.cli import predict as predict_cli
from samseg.cli.adaptor_arguments import ADAPTOR_DEFAULTS, adaptor_settings
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor
from samseg.inference.case_context import CaseContext
from samseg.inference.case_references import reference_files
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import write_json
from samseg.models import build_sam
from samseg.paths import DATASET_JSON_COPY
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

SPACING = (3.0, 0.8, 0.8)
SHAPE = (8, 20, 24)
ADAPTOR = AdaptorSettings(positive_parts=(1, 2))
VOLUME = VolumeSettings(presence="always")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Targets t1, t2 (the same follow-up image); references A (t1) and B (t2, mirrored)."""
    folder = tmp_path_factory.mktemp("priors")
    image, label = blocky_case(SHAPE, num_labels=2, thin=False)
    mirrored = (image[:, ::-1, ::-1].copy(), label[:, ::-1, ::-1].copy())
    references = {}
    for case, (reference_image, reference_label) in (("t1", (image, label)), ("t2", mirrored)):
        write_image(folder / "targets" / f"{case}_0000.nii.gz", image[::-1].copy(), SPACING)
        images = write_image(folder / "refs" / f"{case}_0000.nii.gz", reference_image, SPACING)
        labels = write_image(folder / "ref_labels" / f"{case}.nii.gz", reference_label, SPACING)
        references[case] = ([images], labels)
    cases = {c: [folder / "targets" / f"{c}_0000.nii.gz"] for c in ("t1", "t2")}
    return folder, cases, references


@pytest.fixture(scope="module")
def model():
    plans = make_plans(input_size=32, num_labels=2)
    torch.manual_seed(0)
    network = build_sam("vit_tiny", 32, None, num_classes=3, precision="fp32").eval()
    return PromptableModel((network,), plans, "2d_32", make_description(plans), {"test": 1})


def segmentation(path):
    return sitk.GetArrayFromImage(sitk.ReadImage(str(path)))


class ReferenceRecorder(nn.Module):
    """A slice network that records each case's reference and predicts background."""

    input_size = 32
    num_classes = 3

    def __init__(self) -> None:
        super().__init__()
        self.contexts: list[CaseContext] = []

    def begin_case(self, context: CaseContext) -> None:
        self.contexts.append(context)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(len(images), 3, 32, 32)
        logits[:, 0] = 1
        return logits


def recorder_predictor(model) -> tuple[SlicePredictor, ReferenceRecorder]:
    network = ReferenceRecorder()
    predictor = SlicePredictor(
        [network], model.plans, "2d_32", model.description, use_mirroring=False,
        show_progress=False,
    )  # fmt: skip
    return predictor, network


def test_the_folder_api_gives_each_case_its_own_preprocessed_reference(
    tmp_path, files, model
) -> None:
    _, cases, references = files
    predictor, network = recorder_predictor(model)
    predictor.predict_to_files(cases, tmp_path / "out", references=references)
    given = {c.identifier: c.reference for c in network.contexts}
    assert set(given) == {"t1", "t2"}
    for case, reference in given.items():
        label = segmentation(references[case][1])[:, 2:-2, 2:-2]  # cropped to the image
        assert np.array_equal(reference.label[0], label)  # preprocessed with its label
    assert not np.array_equal(given["t1"].label, given["t2"].label)
    # one reference for both cases: preprocessed once, the same object (features reused)
    network.contexts.clear()
    shared = {case: references["t1"] for case in cases}
    predictor.predict_to_files(cases, tmp_path / "shared", references=shared)
    assert network.contexts[0].reference is network.contexts[1].reference


def test_a_case_without_its_reference_is_refused_before_anything_is_written(
    tmp_path, files, model
) -> None:
    folder, cases, references = files
    predictor, network = recorder_predictor(model)
    output = tmp_path / "out"
    with pytest.raises(SamsegInputError, match="case t2: expected an annotated reference"):
        predictor.predict_to_files(cases, output, references={"t1": references["t1"]})
    missing = {**references, "t2": (references["t2"][0], folder / "ref_labels" / "nope.nii.gz")}
    with pytest.raises(SamsegInputError, match=r"nope\.nii\.gz: expected a reference file of "):
        predictor.predict_to_files(cases, output, references=missing)
    assert not output.exists() and not network.contexts
    # only the cases of this part need one
    run = predictor.predict_to_files(
        cases, output, references={"t2": references["t2"]}, num_parts=2, part_id=1
    )
    assert run.predicted == ("t2",)


def test_outputs_may_not_replace_a_reference(tmp_path, files, model) -> None:
    folder, cases, references = files
    predictor, _ = recorder_predictor(model)
    with pytest.raises(SamsegInputError, match=r"is the input image .*t1\.nii\.gz"):
        predictor.predict_to_files(cases, folder / "ref_labels", references=references)
    assert sorted(p.name for p in (folder / "ref_labels").iterdir()) == ["t1.nii.gz", "t2.nii.gz"]


def test_each_case_is_segmented_as_its_own_reference_implies(tmp_path, files, model) -> None:
    _, cases, references = files
    options = {"adaptor": ADAPTOR, "volume": VOLUME, "show_progress": False}
    run = adapt_with_priors(
        model, cases, references, tmp_path / "priors", save_prompts=True, **options
    )
    assert run.predicted == ("t1", "t2")
    outputs = {case: segmentation(tmp_path / "priors" / f"{case}.nii.gz") for case in cases}
    assert not np.array_equal(outputs["t1"], outputs["t2"])  # same target, other reference
    for case in cases:  # what samseg_adapt gives with that case's reference, exactly
        single = tmp_path / f"adapt_{case}"
        adapt_to_folder(model, [references[case]], {case: cases[case]}, single, **options)
        assert (single / f"{case}.nii.gz").read_bytes() == (
            tmp_path / "priors" / f"{case}.nii.gz"
        ).read_bytes()
    settings = json.loads((tmp_path / "priors" / "prediction_settings.json").read_text())
    assert settings["adaptor"] == "p2sam" and settings["use_mirroring"] is False
    assert settings["case_references"]["t2"][1] == str(references["t2"][1])
    prompts = json.loads((tmp_path / "priors" / "prompts" / "t2.json").read_text())
    assert prompts["reference"]["label"] == str(references["t2"][1])
    assert {r["class_value"] for r in prompts["slices"]} == {1, 2}


def test_a_reference_without_every_class_is_refused_before_anything_is_written(
    tmp_path, files, model
) -> None:
    _, cases, references = files
    label = blocky_case(SHAPE, num_labels=2, thin=False)[1]
    only_one = write_image(tmp_path / "one.nii.gz", np.where(label == 2, 0, label), SPACING)
    empty = write_image(tmp_path / "empty.nii.gz", np.zeros_like(label), SPACING)
    output = tmp_path / "out"
    for bad, message in ((only_one, r"hold every class to adapt \[1, 2\], found no voxel of \[2\]"),
                         (empty, "with an object, found none")):  # fmt: skip
        with pytest.raises(SamsegInputError, match=f"case t2 .*{message}"):
            adapt_with_priors(
                model, cases, {**references, "t2": (references["t2"][0], bad)}, output
            )
    # only this part's cases need a reference: t1 (part 0) has none, t2's is checked
    only_t2 = {"t2": (references["t2"][0], only_one)}
    with pytest.raises(SamsegInputError, match=r"case t2 .*found no voxel of"):
        adapt_with_priors(model, cases, only_t2, output, num_parts=2, part_id=1)
    assert not output.exists()


@pytest.fixture
def dataset(roots, files):
    """The plans under the preprocessed root (for -d 950 -c 2d_32 --sam_checkpoint none)."""
    plans = make_plans(input_size=32, num_labels=2)
    folder = roots["preprocessed"] / "Dataset950_Inference"
    folder.mkdir()
    plans.save(folder / "samsegPlans.json")
    write_json(make_description(plans).to_json(), folder / DATASET_JSON_COPY)
    return files[0]


def test_samseg_predict_adaptor_end_to_end_equals_samseg_adapt(tmp_path, dataset, capsys) -> None:
    folder = dataset
    common = ["-d", "950", "-c", "2d_32", "--sam-checkpoint", "none", "--model-type", "vit_tiny",
              "--positive-parts", "1", "2", "--presence", "always", "-device", "cpu",
              "-num_threads", "1"]  # fmt: skip
    torch.manual_seed(0)
    predict_cli.main(
        ["-i", str(folder / "targets" / "t2_0000.nii.gz"), "-o", str(tmp_path / "out"),
         "--adaptor", "p2sam", "--reference-images", str(folder / "refs"),
         "--reference-labels", str(folder / "ref_labels"), "--save-prompts", *common]
    )  # fmt: skip
    torch.manual_seed(0)
    adapt_cli.main(
        ["-ref_image", str(folder / "refs" / "t2_0000.nii.gz"), "-ref_label",
         str(folder / "ref_labels" / "t2.nii.gz"), "-i", str(folder / "targets" / "t2_0000.nii.gz"),
         "-o", str(tmp_path / "adapt"), *common]
    )  # fmt: skip
    written = tmp_path / "out" / "t2.nii.gz"
    assert written.read_bytes() == (tmp_path / "adapt" / "t2.nii.gz").read_bytes()
    assert sitk.ReadImage(str(written)).GetSize() == tuple(reversed(SHAPE))
    settings = json.loads((tmp_path / "out" / "prediction_settings.json").read_text())
    assert settings["adaptor"] == "p2sam" and not settings["use_mirroring"]
    assert "positive_parts=(1, 2)" in settings["adaptor_settings"]
    assert settings["reference_labels"] == str((folder / "ref_labels").resolve())
    assert (tmp_path / "out" / "prompts" / "t2.json").is_file()
    # the record names the reference folders: a case added later continues the same run
    predict_cli.main(
        ["-i", str(folder / "targets"), "-o", str(tmp_path / "out"), "--adaptor", "p2sam",
         "--reference_images", str(folder / "refs"), "--reference_labels",
         str(folder / "ref_labels"), "--continue_prediction", *common]
    )  # fmt: skip
    assert "1 case(s) segmented from their references, 1 skipped" in capsys.readouterr().out


def test_a_missing_reference_file_is_one_line_naming_it(tmp_path, dataset, capsys) -> None:
    folder = dataset
    with pytest.raises(SystemExit) as exit_info:
        predict_cli.main(
            ["-i", str(folder / "targets"), "-o", str(tmp_path / "out"), "--adaptor", "p2sam",
             "--reference_images", str(folder / "refs"), "--reference_labels", str(tmp_path),
             "-d", "950", "-c", "2d_32", "--sam_checkpoint", "none", "--model_type", "vit_tiny",
             "-device", "cpu", "-num_threads", "1"]
        )  # fmt: skip
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"{tmp_path / 't1.nii.gz'}: expected a reference file of case t1" in error
    assert "(2 cases lack a reference file)" in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--mode", "persam"], "--mode: expected with --adaptor"),
        (["--reference_images", "x"], "--reference_images: expected with --adaptor"),
        (["--save_prompts", "--negative_parts", "0", "2"], "--negative_parts, --save_prompts"),
        (["--adaptor", "p2sam", "--reference_images", "x"], "--reference_labels DIR"),
        (["--adaptor", "p2sam", "--prompts", "box", "--prompt_labels", "x"], "found --prompts"),
        (["--adaptor", "p2sam", "-f", "0", "1"], "-f with several folds"),
        (["--adaptor", "p2sam", "--precision", "bf16"], "--precision bf16"),
        (["--adaptor", "p2sam", "-step_size", "0.5"], "-step_size"),
        (["--adaptor", "p2sam", "--mode", "fixed"], "--mode fixed: expected LOW == HIGH"),
        (["--sam_checkpoint", "none", "-d", "1", "-c", "2d_32"], "or with --adaptor"),
    ],
)
def test_adaptor_flags_that_do_not_go_together(tmp_path, flags, message, capsys) -> None:
    references = ["--reference_images", "x", "--reference_labels", "y"]
    if "--adaptor" in flags and "--reference_images" not in flags:
        flags = [*flags, *references]
    with pytest.raises(SystemExit) as exit_info:
        predict_cli.main(["-i", str(tmp_path), "-o", str(tmp_path / "o"), "-m", "M", *flags])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--mode", "fixed", "--positive-parts", "3", "3", "--negative_parts", "0", "0",
         "--negatives", "persam_argmin", "--prompt_type", "box", "--pooling", "matched",
         "--presence", "always", "--save_prompts"],
    ],
)  # fmt: skip
def test_the_adaptor_flags_parse_the_same_in_both_commands(flags) -> None:
    adapt = adapt_cli.build_parser().parse_args(
        ["-ref_image", "r", "-ref_label", "l", "-i", "x", "-o", "y", *flags]
    )
    predict = predict_cli.build_parser().parse_args(["-i", "x", "-o", "y", *flags])
    assert {n: getattr(adapt, n) for n in ADAPTOR_DEFAULTS} == {
        n: getattr(predict, n) for n in ADAPTOR_DEFAULTS
    }
    if not flags:
        assert adaptor_settings(adapt) == (AdaptorSettings(), VolumeSettings())
    else:
        settings, volume = adaptor_settings(predict)
        assert (settings.mode, settings.positive_parts, volume.pooling) == (
            "fixed",
            (3, 3),
            "matched",
        )


def test_reference_files_are_found_in_the_nnunet_layout(files, model) -> None:
    folder, _, references = files
    found = reference_files(folder / "refs", folder / "ref_labels", ["t2"], model.description)
    assert found == {"t2": ([references["t2"][0][0]], references["t2"][1])}
    with pytest.raises(SamsegInputError, match="refs_missing: expected the folder of reference"):
        reference_files(folder / "refs_missing", folder / "ref_labels", ["t2"], model.description)
