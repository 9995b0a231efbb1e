"""build_sam: every SAM-family network samseg trains or runs, built in one place.

The networks are made of segment_anything's own classes (``ImageEncoderViT``,
``PromptEncoder``, ``TwoWayTransformer``) and samseg's ``MultiClassMaskDecoder`` subclass of its
``MaskDecoder``, with the hyper-parameters of segment_anything's ``build_sam`` for the official
types, at any input size that is a multiple of 16.
"""

from __future__ import annotations

import os
from functools import partial

import torch
from torch import nn

from samseg.models.architectures import (
    PATCH_SIZE,
    PROMPT_EMBED_DIM,
    SamArchitecture,
    check_input_size,
    get_architecture,
)
from samseg.models.checkpoint_io import read_checkpoint
from samseg.models.fast_attention import use_fast_attention
from samseg.models.lora import LoraSettings, apply_lora
from samseg.models.mask_decoder import MultiClassMaskDecoder
from samseg.models.precision import Precision
from samseg.models.sam_import import import_segment_anything
from samseg.models.segmenter import SamSegmenter
from samseg.models.weights import has_lora_entries, load_contents

_modeling = import_segment_anything().modeling


def build_sam(
    model_type: str,
    input_size: int,
    checkpoint: str | os.PathLike[str] | None,
    *,
    num_classes: int = 2,
    fast_attention: bool = True,
    precision: Precision = "auto",
    lora: LoraSettings | None = None,
) -> SamSegmenter:
    """Build a SAM network, from a checkpoint or randomly initialised, in eval mode.

    Args:
        model_type: ``vit_b``, ``vit_l``, ``vit_h`` (official) or ``vit_small``, ``vit_tiny``
            (small, for tests and CPU demos); see ``SAM_ARCHITECTURES``.
        input_size: side S in pixels of the square input, a multiple of 16 (e.g. 256, 512,
            1024). Checkpoints made at another size are resized (see ``samseg.models.resize``).
        checkpoint: an official SAM file (``sam_vit_b_01ec64.pth`` ...), MedSAM's
            ``medsam_vit_b.pth``, a samseg checkpoint, or None for random initialisation
            (an explicit choice: tests and demos).
        num_classes: classes of the prompt-free head, background included. Official files
            leave this head freshly initialised; a samseg checkpoint must have the same count.
        fast_attention: compute the encoder's attention with scaled_dot_product_attention
            (same parameters, same results to ~1e-6); False keeps segment_anything's forward.
        precision: ``auto`` (bf16 autocast on CUDA), ``fp32``, ``bf16`` or ``fp16``
            (see ``samseg.models.precision``).
        lora: add LoRA layers to the encoder attention (see ``samseg.models.lora``): after
            loading a plain checkpoint, before loading one that holds LoRA layers. peft leaves
            only the LoRA parameters of the encoder trainable; choose what trains with
            ``samseg.models.freezing.apply_freezing``.

    Returns:
        The network on the CPU, in eval mode.

    Raises:
        SamsegInputError: unknown model type, bad input size, or a checkpoint that does not
            fit (the message names the file and the first mismatches).
        SamsegConfigError: the checkpoint file does not exist (the message names the official
            files and where to get them).
    """
    architecture = get_architecture(model_type)
    check_input_size(input_size)
    model = SamSegmenter(
        image_encoder=build_image_encoder(architecture, input_size),
        prompt_encoder=build_prompt_encoder(input_size),
        mask_decoder=build_mask_decoder(num_classes),
        precision=precision,
    )
    contents = None if checkpoint is None else read_checkpoint(checkpoint)
    lora_first = contents is not None and has_lora_entries(contents.state_dict)
    if lora is not None and lora_first:
        apply_lora(model, lora)
    if contents is not None:
        load_contents(model, contents)
    if lora is not None and not lora_first:
        apply_lora(model, lora)
    use_fast_attention(model.image_encoder, fast_attention)
    return model.eval()


def build_image_encoder(architecture: SamArchitecture, input_size: int) -> nn.Module:
    """segment_anything's ``ImageEncoderViT`` for ``architecture`` at ``input_size`` pixels."""
    return _modeling.ImageEncoderViT(
        depth=architecture.depth,
        embed_dim=architecture.embed_dim,
        img_size=input_size,
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


def build_prompt_encoder(input_size: int) -> nn.Module:
    """segment_anything's ``PromptEncoder`` for ``input_size`` pixel inputs."""
    grid = input_size // PATCH_SIZE
    return _modeling.PromptEncoder(
        embed_dim=PROMPT_EMBED_DIM,
        image_embedding_size=(grid, grid),
        input_image_size=(input_size, input_size),
        mask_in_chans=16,
    )


def build_mask_decoder(num_classes: int) -> MultiClassMaskDecoder:
    """SAM's mask decoder with ``num_classes`` prompt-free class tokens."""
    return MultiClassMaskDecoder(
        num_classes=num_classes,
        transformer_dim=PROMPT_EMBED_DIM,
        transformer=_modeling.TwoWayTransformer(
            depth=2, embedding_dim=PROMPT_EMBED_DIM, mlp_dim=2048, num_heads=8
        ),
        num_multimask_outputs=3,
        iou_head_depth=3,
        iou_head_hidden_dim=256,
    )
