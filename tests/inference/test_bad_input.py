"""Bad input is a SamsegInputError naming the file; samseg_predict exits with status 2."""

from __future__ import annotations

import pytest
import torch

from samseg.cli.predict import main
from samseg.errors import SamsegInputError
from samseg.inference import SlicePredictor, find_cases, load_trained_network
from tests.inference.conftest import write_model_folder
from tests.inference.helpers import blocky_case, make_description, make_plans, write_image


def run_cli(arguments: list[str], capsys) -> str:
    """Run samseg_predict, expect exit status 2, return stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "-device", "cpu"])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_unreadable_image_names_the_file(trained_model, test_images, tmp_path, capsys):
    broken = test_images / "case1_0000.nii.gz"
    broken.write_bytes(b"not an image")
    error = run_cli(
        ["-i", str(broken), "-o", str(tmp_path / "out"), "-m", str(trained_model.folder)], capsys
    )
    assert str(broken) in error


def test_output_folder_that_cannot_be_written_names_it(
    trained_model, test_images, tmp_path, capsys
):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    output = blocker / "predictions"
    error = run_cli(
        ["-i", str(test_images), "-o", str(output), "-m", str(trained_model.folder)], capsys
    )
    assert str(output) in error


def test_missing_fold_or_checkpoint_names_what_exists(trained_model, test_images, tmp_path, capsys):
    base = ["-i", str(test_images), "-o", str(tmp_path / "out"), "-m", str(trained_model.folder)]
    error = run_cli([*base, "-f", "3"], capsys)
    assert "fold_3" in error and "fold_0/" in error and "fold_1/" in error
    error = run_cli([*base, "-f", "0", "-chk", "checkpoint_best.pth"], capsys)
    assert "checkpoint_best.pth" in error and "checkpoint_final.pth" in error
    error = run_cli([*base[:4], "-d", "950", "-tr", "NoSuchTrainer", "-c", "2d_64"], capsys)
    assert "NoSuchTrainer__samsegPlans__2d_64" in error


def test_missing_channel_file_names_it(roots, tmp_path, capsys):
    channels = ("T2", "ADC")
    plans = make_plans(input_size=32, channels=channels, context_slices=0)
    description = make_description(plans, channels)
    model = write_model_folder(tmp_path / "T__samsegPlans__2d_32", plans, description, (0,))
    image, _ = blocky_case((4, 20, 20))
    write_image(tmp_path / "in" / "case_0000.nii.gz", image, (3.0, 1.0, 1.0))
    error = run_cli(
        ["-i", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-m", str(model.folder)], capsys
    )
    assert str(tmp_path / "in" / "case_0001.nii.gz") in error
    with pytest.raises(SamsegInputError, match="single image"):
        find_cases([tmp_path / "in" / "case_0000.nii.gz"], description)


def test_checkpoint_with_wrong_content_names_the_file(tmp_path):
    path = tmp_path / "checkpoint_final.pth"
    torch.save({"model": {}}, path)
    with pytest.raises(SamsegInputError, match="network_weights") as error:
        load_trained_network(path)
    assert str(path) in str(error.value)
    path.write_bytes(b"garbage")
    with pytest.raises(SamsegInputError, match=r"torch\.load"):
        load_trained_network(path)
    with pytest.raises(SamsegInputError, match=r"missing\.pth") as error:
        load_trained_network(tmp_path / "missing.pth")
    assert "checkpoint_final.pth" in str(error.value)


def test_checkpoint_that_does_not_fit_its_architecture_names_the_file(trained_model):
    path = trained_model.folder / "fold_0" / "checkpoint_final.pth"
    content = torch.load(path, weights_only=True)
    content["network"]["num_classes"] = 7
    torch.save(content, path)
    with pytest.raises(SamsegInputError, match="fit the network") as error:
        load_trained_network(path)
    assert str(path) in str(error.value)


def test_networks_that_do_not_fit_the_plans_are_refused(trained_model):
    network = load_trained_network(trained_model.folder / "fold_0" / "checkpoint_final.pth")
    plans, description = trained_model.plans, trained_model.description
    with pytest.raises(SamsegInputError, match="configuration 2d_32"):
        SlicePredictor([network], make_plans(input_size=32), "2d_32", description)
    with pytest.raises(SamsegInputError, match="output classes"):
        SlicePredictor([network], make_plans(input_size=64, num_labels=5), "2d_64", description)
    with pytest.raises(SamsegInputError, match="int8"):
        SlicePredictor([network], plans, "2d_64", description, precision="int8", device="meta")
