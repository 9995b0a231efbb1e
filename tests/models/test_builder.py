"""The builder registry, input sizes and the segment_anything import helper."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from samseg.errors import SamsegInputError
from samseg.models import SAM_ARCHITECTURES, build_sam, uses_fast_attention
from samseg.models.resize import resize_pos_embed, resize_rel_pos

REPOSITORY = Path(__file__).resolve().parents[2]

FAKE_TORCHVISION = {
    "torchvision/__init__.py": "",
    "torchvision/transforms/__init__.py": "",
    "torchvision/transforms/functional.py": "resize = to_pil_image = None\n",
    "torchvision/ops/__init__.py": "",
    "torchvision/ops/boxes.py": "batched_nms = box_area = None\n",
}

# Loads sam_import.py alone: the samseg.models package imports peft, whose transformers
# dependency would try to use the fake torchvision.
IMPORT_CHECK = textwrap.dedent(
    """
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("sam_import", sys.argv[1])
    sam_import = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sam_import)
    modules = sam_import.import_segment_anything()
    package = sys.modules["segment_anything"]
    print(modules.modeling.Sam.__name__, hasattr(package, "SamPredictor"))
    """
)


def run_import_check(extra_path: Path | None) -> str:
    paths = [str(REPOSITORY)] + ([str(extra_path)] if extra_path else [])
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK, str(REPOSITORY / "samseg/models/sam_import.py")],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_import_without_torchvision() -> None:
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed here")
    assert run_import_check(None) == "Sam False"


def test_import_with_torchvision_runs_package_init(tmp_path: Path) -> None:
    for name, text in FAKE_TORCHVISION.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert run_import_check(tmp_path) == "Sam True"


@pytest.mark.parametrize(("model_type", "size"), [("vit_tiny", 256), ("vit_tiny", 320)])
def test_sizes(model_type: str, size: int) -> None:
    model = build_sam(model_type, size, None, num_classes=3)
    grid = size // 16
    assert model.input_size == size
    assert model.image_encoder.pos_embed.shape == (1, grid, grid, 96)
    assert model.prompt_encoder.image_embedding_size == (grid, grid)
    assert model.mask_decoder.class_tokens.weight.shape == (3, 256)
    assert uses_fast_attention(model.image_encoder)
    assert not model.training


def test_official_architectures_match_segment_anything() -> None:
    model = build_sam("vit_b", 512, None, fast_attention=False)
    encoder = model.image_encoder
    assert len(encoder.blocks) == 12
    assert encoder.blocks[0].attn.qkv.in_features == 768
    assert [block.window_size for block in encoder.blocks].count(0) == 4
    assert encoder.blocks[2].attn.rel_pos_h.shape == (63, 64)
    assert encoder.blocks[0].attn.rel_pos_h.shape == (27, 64)
    assert not uses_fast_attention(encoder)
    assert set(SAM_ARCHITECTURES) >= {"vit_b", "vit_l", "vit_h", "vit_tiny", "vit_small"}


@pytest.mark.parametrize("size", [0, 100, 256.0, True])
def test_bad_input_size(size: object) -> None:
    with pytest.raises(SamsegInputError, match="input size"):
        build_sam("vit_tiny", size, None)  # type: ignore[arg-type]


def test_unknown_model_type() -> None:
    with pytest.raises(
        SamsegInputError, match=r"'vit_x'.*vit_b, vit_h, vit_l, vit_small, vit_tiny"
    ):
        build_sam("vit_x", 256, None)


def test_resizing_keeps_constant_fields_and_the_zero_offset() -> None:
    constant = torch.full((1, 64, 64, 8), 0.5)
    torch.testing.assert_close(
        resize_pos_embed(constant, (16, 16)), torch.full((1, 16, 16, 8), 0.5)
    )
    assert resize_pos_embed(constant, (64, 64)) is constant
    table = torch.randn(127, 4)
    resized = resize_rel_pos(table, 31)
    assert resized.shape == (31, 4)
    torch.testing.assert_close(resized[15], table[63])


def source_coordinates(old: int, new: int) -> np.ndarray:
    """Where output pixel j samples the input (align_corners=False): (j + 1/2) old/new - 1/2."""
    return (np.arange(new) + 0.5) * old / new - 0.5


def cubic_resampling_matrix(old: int, new: int, a: float = -0.75) -> np.ndarray:
    """(new, old) weights of Keys' cubic convolution (a = -0.75) at the source coordinates,
    indices clamped at the border: upsampling written out independently of torch."""

    def kernel(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x <= 1, near, np.where(x < 2, far, 0.0))

    matrix = np.zeros((new, old))
    for j, source in enumerate(source_coordinates(old, new)):
        base = int(np.floor(source))
        for index in range(base - 1, base + 3):
            matrix[j, min(max(index, 0), old - 1)] += kernel(source - index)
    return matrix


def test_upsampled_position_embedding_is_bicubic_interpolation() -> None:
    field = np.random.default_rng(0).normal(size=(14, 10, 3))
    resized = resize_pos_embed(torch.from_numpy(field)[None].float(), (32, 24))[0].double()
    rows, columns = cubic_resampling_matrix(14, 32), cubic_resampling_matrix(10, 24)
    expected = np.einsum("ir,jc,rck->ijk", rows, columns, field)
    np.testing.assert_allclose(resized.numpy(), expected, rtol=0, atol=1e-5)


def test_shrunk_position_embedding_follows_a_smooth_field() -> None:
    """A field of long waves, shrunk 64 x 64 -> 16 x 40, keeps its values at the source
    coordinates (antialiasing blurs such waves by less than the tolerance)."""
    rows, columns = np.meshgrid(np.arange(64.0), np.arange(64.0), indexing="ij")

    def field(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.stack([np.sin(2 * np.pi * r / 64), np.cos(2 * np.pi * c / 80), r / 64], -1)

    resized = resize_pos_embed(torch.from_numpy(field(rows, columns))[None].float(), (16, 40))
    source = np.meshgrid(source_coordinates(64, 16), source_coordinates(64, 40), indexing="ij")
    expected = field(*source)
    inner = (slice(2, -2), slice(4, -4))
    np.testing.assert_allclose(resized[0].double().numpy()[inner], expected[inner], atol=0.03)
