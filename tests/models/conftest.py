"""Shared fixtures: an official-format vit_b checkpoint and small random networks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from samseg.models import SamSegmenter, build_sam, import_segment_anything

OFFICIAL_VIT_B = "sam_vit_b_01ec64.pth"
TINY_SIZE = 256


@pytest.fixture(autouse=True)
def _one_thread_per_test(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (``one_torch_thread``, tests/conftest.py)."""


def randomised(state_dict: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """``state_dict`` with seeded noise added to every float entry (rel_pos, pos_embed too)."""
    generator = torch.Generator().manual_seed(seed)
    return {
        name: tensor + 0.1 * torch.randn(tensor.shape, generator=generator)
        if tensor.is_floating_point()
        else tensor
        for name, tensor in state_dict.items()
    }


@pytest.fixture(scope="session")
def official_vit_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file named and laid out like the official vit_b checkpoint, with random values.

    Its keys and shapes are those of segment_anything's own ``build_sam_vit_b`` state dict.
    """
    torch.manual_seed(0)
    reference = import_segment_anything().build_sam.build_sam_vit_b(checkpoint=None)
    path = tmp_path_factory.mktemp("official") / OFFICIAL_VIT_B
    torch.save(randomised(reference.state_dict(), seed=1), path)
    return path


@pytest.fixture
def tiny_model() -> Callable[..., SamSegmenter]:
    """Factory of seeded, randomly initialised vit_tiny networks (fp32, 256 px by default)."""

    def make(seed: int = 0, **options: object) -> SamSegmenter:
        torch.manual_seed(seed)
        options.setdefault("precision", "fp32")
        input_size = int(options.pop("input_size", TINY_SIZE))
        model = build_sam("vit_tiny", input_size, None, **options)
        model.load_state_dict(randomised(model.state_dict(), seed))
        return model

    return make


@pytest.fixture
def make_images() -> Callable[..., torch.Tensor]:
    """Factory of seeded (batch, 3, size, size) images in SAM's 0-255 range."""

    def make(batch: int, size: int = TINY_SIZE, seed: int = 0) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        return 255 * torch.rand(batch, 3, size, size, generator=generator)

    return make
