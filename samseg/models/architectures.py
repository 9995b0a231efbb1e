"""The SAM-family architectures samseg can build, by name.

The three official image encoders (ViT-B/L/H, as in segment_anything's ``build_sam``) and two
small ones for tests and CPU demos. The prompt encoder and mask decoder are the same for all
of them (256 channels, the official two-way transformer), so every architecture can use SAM's
pretrained decoder, and every input size that is a multiple of the 16-pixel patch works.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from samseg.errors import SamsegInputError

PATCH_SIZE = 16
"""Pixels per patch side of every SAM image encoder."""

PRETRAINED_INPUT_SIZE = 1024
"""Input size (pixels) of the official checkpoints: pos_embed is (1, 64, 64, C) there."""

PROMPT_EMBED_DIM = 256
"""Channels of the image embedding, the prompt tokens and the mask decoder transformer."""

SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
"""Per-channel mean (RGB, 0-255 pixel range) SAM normalises its input with."""

SAM_PIXEL_STD = (58.395, 57.12, 57.375)
"""Per-channel standard deviation (RGB, 0-255 pixel range) SAM normalises its input with."""


@dataclass(frozen=True, kw_only=True)
class SamArchitecture:
    """Hyper-parameters of one SAM image encoder.

    Attributes:
        embed_dim: channels of the ViT tokens.
        depth: number of transformer blocks.
        num_heads: attention heads per block (head_dim = embed_dim // num_heads).
        global_attn_indexes: blocks that attend globally; all others use windows.
        window_size: window side, in tokens, of the windowed blocks.
        checkpoint_files: official checkpoint file names with these weights shapes.
    """

    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    window_size: int = 14
    checkpoint_files: tuple[str, ...] = ()


SAM_ARCHITECTURES: MappingProxyType[str, SamArchitecture] = MappingProxyType(
    {
        "vit_b": SamArchitecture(
            embed_dim=768,
            depth=12,
            num_heads=12,
            global_attn_indexes=(2, 5, 8, 11),
            checkpoint_files=("sam_vit_b_01ec64.pth", "medsam_vit_b.pth"),
        ),
        "vit_l": SamArchitecture(
            embed_dim=1024,
            depth=24,
            num_heads=16,
            global_attn_indexes=(5, 11, 17, 23),
            checkpoint_files=("sam_vit_l_0b3195.pth",),
        ),
        "vit_h": SamArchitecture(
            embed_dim=1280,
            depth=32,
            num_heads=16,
            global_attn_indexes=(7, 15, 23, 31),
            checkpoint_files=("sam_vit_h_4b8939.pth",),
        ),
        "vit_small": SamArchitecture(
            embed_dim=384, depth=12, num_heads=6, global_attn_indexes=(2, 5, 8, 11)
        ),
        "vit_tiny": SamArchitecture(
            embed_dim=96, depth=4, num_heads=3, global_attn_indexes=(1, 3), window_size=8
        ),
    }
)
"""Every architecture ``build_sam`` accepts, by model type name (read-only)."""


def get_architecture(model_type: str) -> SamArchitecture:
    """Return the architecture called ``model_type``.

    Raises:
        SamsegInputError: unknown name; the message lists the known ones.
    """
    try:
        return SAM_ARCHITECTURES[model_type]
    except KeyError:
        raise SamsegInputError(
            f"Unknown SAM model type {model_type!r}; expected one of "
            f"{', '.join(sorted(SAM_ARCHITECTURES))}."
        ) from None


def check_input_size(input_size: int) -> int:
    """Return ``input_size`` (pixels per image side) if it is a positive multiple of 16.

    Raises:
        SamsegInputError: not a positive multiple of the patch size.
    """
    if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size <= 0:
        raise SamsegInputError(f"SAM input size must be a positive integer, found {input_size!r}.")
    if input_size % PATCH_SIZE:
        raise SamsegInputError(
            f"SAM input size must be a multiple of the {PATCH_SIZE}-pixel patch "
            f"(e.g. 256, 512, 1024), found {input_size}."
        )
    return input_size


def guess_model_type(embed_dim: int) -> str | None:
    """Name of the official architecture whose token width is ``embed_dim``, if any."""
    for name, architecture in SAM_ARCHITECTURES.items():
        if architecture.embed_dim == embed_dim and architecture.checkpoint_files:
            return name
    return None
