"""samseg_adapt end to end on tiny synthetic volumes: geometry, the prompt records, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import SimpleITK as sitk

from samseg.cli.adapt import main
from samseg.io import write_json
from samseg.paths import DATASET_JSON_COPY
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image

DATASET = "Dataset950_Inference"
SPACING = (3.0, 0.8, 0.8)


@pytest.fixture
def dataset(roots, tmp_path):
    """Plans of a 2-class dataset under the preprocessed root; a reference and a target."""
    plans = make_plans(input_size=32, num_labels=2)
    folder = roots["preprocessed"] / DATASET
    folder.mkdir()
    plans.save(folder / "samsegPlans.json")
    write_json(make_description(plans).to_json(), folder / DATASET_JSON_COPY)
    image, label = blocky_case((8, 20, 24), num_labels=2, thin=False)
    reference = write_image(tmp_path / "ref" / "prior_0000.nii.gz", image, SPACING)
    reference_label = write_image(tmp_path / "ref" / "prior.nii.gz", label, SPACING)
    target = write_image(tmp_path / "targets" / "followup_0000.nii.gz", image[::-1].copy(), SPACING)
    return reference, reference_label, target


def arguments(reference, label, target, output) -> list[str]:
    return [
        "-ref-image", str(reference), "-ref-label", str(label), "-i", str(target.parent),
        "-o", str(output), "-d", "950", "-c", "2d_32", "--sam-checkpoint", "none",
        "--model-type", "vit_tiny", "--positive-parts", "1", "2", "--presence", "always",
        "-device", "cpu",
    ]


def test_adapt_writes_the_targets_geometry_and_the_prompt_records(tmp_path, dataset) -> None:
    reference, label, target = dataset
    output = tmp_path / "out"
    main([*arguments(reference, label, target, output), "--save-prompts", "--save-overlays"])
    written = sitk.ReadImage(str(output / "followup.nii.gz"))
    source = sitk.ReadImage(str(target))
    assert written.GetSize() == source.GetSize()
    assert written.GetSpacing() == pytest.approx(source.GetSpacing())
    assert written.GetOrigin() == pytest.approx(source.GetOrigin())
    records = json.loads((output / "prompts" / "followup.json").read_text())["slices"]
    prompted = [r for r in records if r["prompted"]]
    assert {r["class_value"] for r in records} == {1, 2}
    assert all(len(r["candidates"]) == 2 for r in prompted)  # parts 1 and 2, one negative each
    assert all(r["candidates"][0]["labels"] == [1, 0] for r in prompted)
    assert all(r["candidates"][0]["wasserstein"] is not None for r in prompted)
    overlays = sorted(p.name for p in (output / "prompts" / "overlays").glob("*.png"))
    expected = [f"followup_slice{r['slice']:04d}_class{r['class_value']}.png" for r in prompted]
    assert overlays == sorted(expected) and overlays
    assert set(np.unique(sitk.GetArrayFromImage(written))) <= {0, 1, 2}
    settings = json.loads((output / "prediction_settings.json").read_text())
    assert "p2sam" in json.dumps(settings)


def test_bad_references_are_one_clear_error_and_nothing_is_written(
    tmp_path, dataset, capsys
) -> None:
    reference, label, target = dataset
    empty = write_image(tmp_path / "ref" / "empty.nii.gz", np.zeros((8, 20, 24), np.uint8), SPACING)
    output = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(arguments(reference, empty, target, output))
    assert exit_info.value.code == 2
    assert "expected a reference label with an object, found none" in capsys.readouterr().err
    assert not output.exists()
    with pytest.raises(SystemExit):
        main([*arguments(reference, label, target, output), "-ref-label", str(label), str(label)])
    assert "one label per image" in capsys.readouterr().err
