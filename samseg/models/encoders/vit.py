"""SAM's ViT image encoders (vit_b/l/h and the small test types) as an encoder family.

The encoder is segment_anything's own ``ImageEncoderViT`` with the hyper-parameters of
``SAM_ARCHITECTURES``; 16-pixel patches, so the embedding grid is S / 16 and the input side a
multiple of 16. Pixels are normalised with SAM's mean and std.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from types import MappingProxyType

import torch
from torch import nn

from samseg.models.architectures import (
    PATCH_SIZE,
    PRETRAINED_INPUT_SIZE,
    PROMPT_EMBED_DIM,
    SAM_ARCHITECTURES,
    check_input_size,
    get_architecture,
)
from samseg.models.encoder import encode_image
from samseg.models.encoders.family import BlockFeature, EncoderFamily, MemoryFigures
from samseg.models.fast_attention import use_fast_attention
from samseg.models.sam_import import import_segment_anything

_modeling = import_segment_anything().modeling

QKV_PARTS = ("q", "k", "v")

VIT_MEMORY: MappingProxyType[str, MemoryFigures] = MappingProxyType(
    {
        "vit_b": MemoryFigures(parameters_millions=93.7, per_slice_gb_at_512=1.6),
        "vit_l": MemoryFigures(parameters_millions=312.3, per_slice_gb_at_512=3.6),
        "vit_h": MemoryFigures(parameters_millions=641.1, per_slice_gb_at_512=5.5),
        "vit_small": MemoryFigures(parameters_millions=28.0, per_slice_gb_at_512=0.8),
        "vit_tiny": MemoryFigures(parameters_millions=5.0, per_slice_gb_at_512=0.05),
    }
)
"""Planner figures (the planner's former table; vit_small estimated from its width)."""


class ViTFamily(EncoderFamily):
    """segment_anything's ``ImageEncoderViT``; see the module docstring."""

    name = "vit"
    model_types = tuple(SAM_ARCHITECTURES)
    downsampling = PATCH_SIZE
    size_multiple = PATCH_SIZE
    normalisation = "sam_mean_std"
    fast_attention = True
    lora_module_pattern = r".*blocks\.\d+\.attn\.({modules})"

    def build(self, model_type: str, input_size: int) -> nn.Module:
        architecture = get_architecture(model_type)
        return _modeling.ImageEncoderViT(
            depth=architecture.depth,
            embed_dim=architecture.embed_dim,
            img_size=self.check_input_size(input_size),
            mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=architecture.num_heads,
            patch_size=PATCH_SIZE,
            qkv_bias=True,
            use_rel_pos=True,
            global_attn_indexes=architecture.global_attn_indexes,
            window_size=architecture.window_size,
            out_chans=PROMPT_EMBED_DIM,
        )

    def check_input_size(self, input_size: int) -> int:
        return check_input_size(input_size)

    def pretrained_input_size(self, model_type: str) -> int:
        return PRETRAINED_INPUT_SIZE

    def encode(
        self, image_encoder: nn.Module, images: torch.Tensor, return_blocks: Sequence[int]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return encode_image(image_encoder, images, return_blocks)

    def block_features(self, model_type: str, input_size: int) -> list[BlockFeature]:
        architecture = get_architecture(model_type)
        feature = BlockFeature(self.embedding_grid(input_size), architecture.embed_dim)
        return [feature] * architecture.depth

    def level_blocks(self, model_type: str) -> tuple[int, ...]:
        """The global-attention blocks before the last one (vit_b: 2, 5, 8)."""
        return get_architecture(model_type).global_attn_indexes[:-1]

    def qkv_rows(self, attention: nn.Module) -> dict[str, torch.Tensor]:
        """q, k, v are consecutive thirds of ``qkv``'s output rows."""
        dim = attention.qkv.out_features // len(QKV_PARTS)
        return {
            part: torch.arange(index * dim, (index + 1) * dim)
            for index, part in enumerate(QKV_PARTS)
        }

    def use_fast_attention(self, image_encoder: nn.Module, enabled: bool) -> int:
        return use_fast_attention(image_encoder, enabled)

    def memory(self, model_type: str) -> MemoryFigures:
        get_architecture(model_type)
        return VIT_MEMORY[model_type]

    def checkpoint_files(self, model_type: str) -> tuple[str, ...]:
        return get_architecture(model_type).checkpoint_files

    def weights_hint(self, model_type: str) -> str:
        if not self.checkpoint_files(model_type):
            return f"{model_type} has no official weights (random initialisation only)."
        return (
            "SAM's files come from the segment-anything project page "
            "(github.com/facebookresearch/segment-anything, 'Model Checkpoints'), "
            "medsam_vit_b.pth from the MedSAM project page (github.com/bowang-lab/MedSAM)."
        )
