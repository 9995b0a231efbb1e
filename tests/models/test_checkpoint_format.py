"""The samseg checkpoint format: version stamp, network kinds, version 1 files, clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.inference.model_loading import load_trained_network
from samseg.models import LoraSettings
from samseg.models.checkpoint_format import (
    FORMAT_VERSION,
    TRAINING_STATE_KEYS,
    read_samseg_checkpoint,
    stamped_content,
)
from samseg.models.network_kinds import NETWORK_KINDS, build_network
from samseg.models.spec import NetworkSpec
from samseg.training.checkpoints import check_continuable, load_checkpoint, save_checkpoint

SPEC = NetworkSpec(
    model_type="vit_tiny",
    input_size=32,
    num_classes=3,
    lora=LoraSettings(rank=2, targets=("q", "v")),
)


def seeded_network() -> torch.nn.Module:
    torch.manual_seed(3)
    network = SPEC.build()
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return network.eval()


def training_entries() -> dict:
    entries = {key: {} for key in TRAINING_STATE_KEYS}
    entries["trainer_name"] = "SAMLoRATrainer"
    return entries


def version_1_file(path, network: torch.nn.Module) -> None:
    """A checkpoint as samseg wrote it before the format version: no format_version, the
    network as bare NetworkSpec options, no mirroring axes."""
    options = dict(SPEC.description().options)
    content = {"network_weights": network.state_dict(), "network": options, **training_entries()}
    torch.save(content, path)


def test_a_written_checkpoint_records_its_format_version_and_network_kind(tmp_path):
    path = tmp_path / "checkpoint_final.pth"
    network = seeded_network()
    content = {"network_weights": network.state_dict(), "network": SPEC.to_json()}
    save_checkpoint(
        {**content, "inference_allowed_mirroring_axes": [1], **training_entries()}, path
    )
    raw = torch.load(path, weights_only=True)
    assert raw["format_version"] == FORMAT_VERSION == 2
    assert raw["network"]["kind"] == "sam_segmenter"
    checkpoint = read_samseg_checkpoint(path)
    assert checkpoint.format_version == 2
    assert NetworkSpec.from_json(checkpoint.network.to_json()) == SPEC
    assert checkpoint.allowed_mirroring_axes == (1,)
    images = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        expected = network(images).logits
        torch.testing.assert_close(load_trained_network(path)(images).logits, expected)


def test_a_version_1_checkpoint_still_loads_for_prediction_and_continuing(tmp_path):
    path = tmp_path / "checkpoint_final.pth"
    network = seeded_network()
    version_1_file(path, network)
    checkpoint = read_samseg_checkpoint(path)
    assert checkpoint.format_version == 1 and checkpoint.network.kind == "sam_segmenter"
    assert checkpoint.allowed_mirroring_axes is None and checkpoint.mirroring_axes == (0, 1)
    images = torch.rand(2, 3, 32, 32) * 255
    with torch.no_grad():
        expected = network(images).logits
        torch.testing.assert_close(load_trained_network(path)(images).logits, expected)
    content = load_checkpoint(path)
    check_continuable(content, path, SPEC.to_json(), "SAMLoRATrainer")
    other = NetworkSpec(model_type="vit_tiny", input_size=32, num_classes=4, lora=SPEC.lora)
    with pytest.raises(SamsegInputError, match="expected a checkpoint of the network"):
        check_continuable(content, path, other.to_json(), "SAMLoRATrainer")


def test_the_registry_builds_the_kind_a_description_names():
    assert {"sam_segmenter", "promptable_sam", "pgsam"} <= set(NETWORK_KINDS)
    built = build_network(SPEC.description(), "here")
    reference = SPEC.build()
    assert {k: v.shape for k, v in built.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()
    }


def test_a_prompts_only_network_keeps_its_kind_through_the_description():
    promptable = replace(SPEC, promptable_only=True)
    description = promptable.description()
    assert description.kind == "promptable_sam"
    assert "promptable_only" not in description.options
    assert NetworkSpec.from_json(promptable.to_json()) == promptable
    assert NetworkSpec.from_json(SPEC.to_json()).promptable_only is False
    assert isinstance(build_network(description, "here"), type(SPEC.build()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"network": {"kind": "promise_sam", "input_size": 32}},
            r"network kind of \[.*'promptable_sam', 'sam_segm",
        ),
        ({"format_version": 3}, "newer samseg"),
        ({"format_version": "2"}, "format_version 1 to 2"),
        ({"network": {"model_type": "vit_tiny"}}, "name its network kind"),
        ({"inference_allowed_mirroring_axes": [2]}, "inference_allowed_mirroring_axes"),
        ({"network_weights": [1, 2]}, "state dict"),
    ],
)
def test_bad_format_entries_are_one_clear_error_naming_the_file(tmp_path, change, message):
    path = tmp_path / "odd.pth"
    content = {"network_weights": seeded_network().state_dict(), "network": SPEC.to_json()}
    torch.save({**stamped_content(content, str(path)), **change}, path)
    with pytest.raises(SamsegInputError, match=message) as error:
        load_trained_network(path)
    assert str(path) in str(error.value)


def test_an_official_sam_file_is_not_taken_for_a_trained_model(tmp_path):
    path = tmp_path / "sam_vit_b.pth"
    torch.save(seeded_network().state_dict(), path)
    with pytest.raises(SamsegInputError, match="official SAM/MedSAM weights, not a trained"):
        load_trained_network(path)


def test_writing_a_network_without_kind_is_refused(tmp_path):
    content = {"network_weights": {}, "network": {"model_type": "vit_tiny"}}
    with pytest.raises(ValueError, match="needs a 'kind'"):
        stamped_content(content, "checkpoint.pth")


def test_prediction_rebuilds_networks_without_importing_a_trainer(tmp_path):
    path = tmp_path / "checkpoint_final.pth"
    content = {"network_weights": seeded_network().state_dict(), "network": SPEC.to_json()}
    torch.save(stamped_content(content, str(path)), path)
    script = textwrap.dedent(
        f"""
        import sys
        from samseg.inference import SlicePredictor
        from samseg.inference.model_loading import load_trained_network
        network = load_trained_network({str(path)!r})
        loaded = sorted(name for name in sys.modules if name.startswith("samseg.training"))
        print(type(network).__name__, loaded)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["SamSegmenter", "[]"], result.stdout + result.stderr
