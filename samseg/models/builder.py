"""build_sam: every SAM-family network samseg trains or runs, built in one place.

The image encoder comes from the model type's encoder family (``samseg.models.encoders``:
segment_anything's ``ImageEncoderViT`` for the vit_* types, samseg's ``TinyViT`` for
``litemedsam``); the prompt encoder is segment_anything's ``PromptEncoder`` and the mask decoder
samseg's ``MultiClassMaskDecoder`` subclass of its ``MaskDecoder``, with the hyper-parameters of
segment_anything's ``build_sam``, for every family.
"""

from __future__ import annotations

import os

from torch import nn

from samseg.models.architectures import PROMPT_EMBED_DIM
from samseg.models.checkpoint_io import read_checkpoint
from samseg.models.encoders import get_encoder_family
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
        model_type: ``vit_b``, ``vit_l``, ``vit_h`` (official), ``vit_small``, ``vit_tiny``
            (small, for tests and CPU demos) or ``litemedsam`` (TinyViT); see ``MODEL_TYPES``.
        input_size: side S in pixels of the square input: a multiple of 16 for the vit types
            (e.g. 256, 512, 1024; checkpoints made at another size are resized, see
            ``samseg.models.resize``), of 4 for ``litemedsam`` (pretrained at 256).
        checkpoint: an official SAM file (``sam_vit_b_01ec64.pth`` ...), MedSAM's
            ``medsam_vit_b.pth``, LiteMedSAM's ``lite_medsam.pth``, a samseg checkpoint, or
            None for random initialisation (an explicit choice: tests and demos).
        num_classes: classes of the prompt-free head, background included. Official files
            leave this head freshly initialised; a samseg checkpoint must have the same count.
        fast_attention: compute the encoder's attention with scaled_dot_product_attention
            (same parameters, same results to ~1e-6) where the family's SDPA path pays (the
            vit types; TinyViT's small windows run faster without it); False: the explicit
            softmax forward everywhere.
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
    family = get_encoder_family(model_type)
    family.check_input_size(input_size)
    model = SamSegmenter(
        image_encoder=family.build(model_type, input_size),
        encoder_family=family,
        prompt_encoder=build_prompt_encoder(input_size, family.embedding_grid(input_size)),
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
    family.use_fast_attention(model.image_encoder, fast_attention and family.fast_attention)
    return model.eval()


def build_prompt_encoder(input_size: int, grid: int) -> nn.Module:
    """segment_anything's ``PromptEncoder`` for ``input_size`` pixel inputs and a (grid, grid)
    image embedding."""
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
