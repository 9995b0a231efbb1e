"""SAM input composition from preprocessed volumes, and network specs in checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.models import LoraSettings
from samseg.models.spec import NetworkSpec
from samseg.slices import context_indices, sam_input_slices


def ramp_volume(num_slices: int = 6) -> np.ndarray:
    """(1, S, 2, 3) volume whose every voxel holds its slice index."""
    return np.broadcast_to(
        np.arange(num_slices, dtype=np.float32)[None, :, None, None], (1, num_slices, 2, 3)
    ).copy()


def test_context_slices_are_neighbours_with_replication_at_the_edges():
    inputs = sam_input_slices(ramp_volume(), [0, 3, 5], context=1)
    assert inputs.shape == (3, 3, 2, 3)
    assert inputs[:, :, 0, 0].tolist() == [[0, 0, 1], [2, 3, 4], [4, 5, 5]]
    assert context_indices(1, 6, 2) == (0, 1, 3)


def test_scattered_slices_give_the_same_result_as_a_block_read():
    volume = np.random.default_rng(0).random((1, 40, 4, 4)).astype(np.float32)
    scattered = sam_input_slices(volume, [0, 39, 20], context=1)
    for row, center in zip(scattered, [0, 39, 20], strict=True):
        expected = [volume[0, i] for i in context_indices(center, 40, 1)]
        np.testing.assert_array_equal(row, np.stack(expected))


def test_no_context_repeats_the_slice_and_multichannel_cycles_channels():
    assert sam_input_slices(ramp_volume(), [2], 0)[0, :, 0, 0].tolist() == [2, 2, 2]
    two_channels = np.stack([ramp_volume()[0], -ramp_volume()[0]])
    assert sam_input_slices(two_channels, [4], 0)[0, :, 0, 0].tolist() == [4, -4, 4]
    with pytest.raises(ValueError, match="single-channel"):
        sam_input_slices(two_channels, [4], 1)


def test_network_spec_round_trips_and_rebuilds_the_same_architecture():
    spec = NetworkSpec(
        model_type="vit_tiny",
        input_size=64,
        num_classes=3,
        lora=LoraSettings(rank=2, targets=("q", "v")),
    )
    assert NetworkSpec.from_json(spec.to_json()) == spec
    first, second = spec.build(), spec.build()
    second.load_state_dict(first.state_dict())
    images = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        torch.testing.assert_close(first(images).logits, second(images).logits)
        assert first(images).logits.shape == (1, 3, 64, 64)
    with pytest.raises(SamsegInputError, match="model_type"):
        NetworkSpec.from_json({"input_size": 64}, "fold_0/checkpoint_final.pth")
