"""PGSAMSegmenter: SAM guided by per-class text priors, prompt-free multi-class output.

A :class:`~samseg.models.SamSegmenter` subclass: SAM's image encoder (with LoRA, or frozen),
prompt encoder and mask decoder keep their state-dict names, so SAM's weights load as they
do for every samseg network and the freezing policies apply to them; PG-SAM's modules train
beside them. One forward pass:

1. the encoder gives the embedding E (B, 256, G, G) and the outputs of the level blocks;
2. the guide (``classwise`` or ``released``, ``samseg.models.pgsam.guide``) aligns the (C, D)
   class text embeddings with E: G (B, 256, G, G) and, classwise, heatmaps (B, C, G, G);
3. the guide fusion gives E' (``samseg.models.pgsam.fusion``);
4. SAM's two-way transformer decodes [IoU token, C class tokens] against E'; class token k is
   SAM's single-mask token plus a projection of class k's text embedding;
5. SAM's output upscaling gives U (B, 32, 4G, 4G), fused with the guide and the level blocks;
6. the iterative mask optimizer gives (B, C, 4G, 4G) logits, upsampled to (B, C, S, S).

The (C, D) text embeddings are a buffer of the network (``text_prior.embeddings``), or a
parameter in the learned-embedding ablation, so a checkpoint predicts without a text encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from samseg.models.encoders import BlockFeature
from samseg.models.pgsam.fusion import GuideFusion, LevelFusion
from samseg.models.pgsam.guide import ClasswiseGuide, GuideOutput, ReleasedGuide
from samseg.models.pgsam.mask_optimizer import IterativeMaskOptimizer
from samseg.models.pgsam.options import PGSAMOptions
from samseg.models.precision import autocast_for
from samseg.models.segmenter import Points, SamSegmenter, SegmenterOutput


class PGSAMOutput(NamedTuple):
    """PG-SAM's logits and guide, fp32."""

    low_res_logits: torch.Tensor
    """(B, C, 4G, 4G) class logits."""
    logits: torch.Tensor
    """(B, C, S, S) low_res_logits upsampled bilinearly to the input size."""
    guide: GuideOutput
    """The guide G, its heatmaps (classwise) and similarities."""


class ClassTextPrior(nn.Module):
    """The (C, D) class text embeddings: a buffer (text sources) or a learned parameter."""

    def __init__(self, *, num_classes: int, dim: int, learned: bool) -> None:
        super().__init__()
        self.learned = learned
        if learned:
            self.embeddings = nn.Parameter(torch.randn(num_classes, dim) / dim**0.5)
        else:
            self.register_buffer("embeddings", torch.zeros(num_classes, dim))

    def set_embeddings(self, embeddings: torch.Tensor) -> None:
        """Store (C, D) embeddings computed by a text encoder (or read from a file).

        Raises:
            ValueError: another shape than (C, D).
        """
        if tuple(embeddings.shape) != tuple(self.embeddings.shape):
            raise ValueError(
                f"expected text embeddings of shape {tuple(self.embeddings.shape)}, found "
                f"{tuple(embeddings.shape)}"
            )
        with torch.no_grad():
            self.embeddings.copy_(embeddings)


class PGSAMSegmenter(SamSegmenter):
    """SAM + PG-SAM's text prior, guide, fusions and mask optimizer; see the module doc."""

    def __init__(
        self,
        *,
        segmenter: SamSegmenter,
        options: PGSAMOptions,
        level_features: Sequence[BlockFeature],
    ) -> None:
        """
        Args:
            segmenter: a SAM network of the backbone (its parts are taken over).
            options: PG-SAM's options (classes, text width, guide mode, levels, iterations).
            level_features: shapes of the ``options.level_blocks`` outputs.
        """
        super().__init__(
            image_encoder=segmenter.image_encoder,
            encoder_family=segmenter.encoder_family,
            prompt_encoder=segmenter.prompt_encoder,
            mask_decoder=segmenter.mask_decoder,
            pixel_mean=segmenter.pixel_mean.flatten().tolist(),
            pixel_std=segmenter.pixel_std.flatten().tolist(),
            precision=segmenter.precision,
        )
        self.options = options
        classes, dim = options.num_classes, options.text_dim
        self.text_prior = ClassTextPrior(num_classes=classes, dim=dim, learned=options.learned)
        grid = self.prompt_encoder.image_embedding_size[0]
        if options.guide == "classwise":
            self.guide = ClasswiseGuide(
                text_dim=dim, num_classes=classes, temperature=options.temperature
            )
        else:
            self.guide = ReleasedGuide(text_dim=dim, grid=grid)
        self.guide_fusion = GuideFusion(attention_grid=options.attention_grid)
        self.level_fusion = LevelFusion(level_channels=[f.channels for f in level_features])
        self.token_projection = nn.Linear(dim, self.mask_decoder.transformer_dim)
        self.mask_optimizer = IterativeMaskOptimizer(
            iterations=options.iterations, with_heatmaps=options.guide == "classwise"
        )

    @property
    def num_classes(self) -> int:
        """C, the classes of the PG-SAM head, background included."""
        return self.options.num_classes

    def forward(
        self,
        images: torch.Tensor,
        *,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
    ) -> SegmenterOutput:
        """(B, 3, S, S) 0-255 images -> fp32 logits (B, C, 4G, 4G) and (B, C, S, S).

        Raises:
            ValueError: prompts given (PG-SAM is prompt-free).
        """
        _refuse_prompts(points, boxes, mask_inputs)
        encoded = self.encode(images, self.options.level_blocks)
        output = self.decode_guided(encoded.image_embeddings, encoded.block_features)
        return SegmenterOutput(output.low_res_logits, output.logits)

    def decode_classes(
        self,
        image_embeddings: torch.Tensor,
        *,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
        block_features: Sequence[torch.Tensor] = (),
    ) -> SegmenterOutput:
        """Class logits from (B, 256, G, G) embeddings and the level blocks' outputs.

        Raises:
            ValueError: prompts given, or not one block output per level.
        """
        _refuse_prompts(points, boxes, mask_inputs)
        output = self.decode_guided(image_embeddings, block_features)
        return SegmenterOutput(output.low_res_logits, output.logits)

    def decode_guided(
        self,
        image_embeddings: torch.Tensor,
        block_features: Sequence[torch.Tensor],
        text_embeddings: torch.Tensor | None = None,
    ) -> PGSAMOutput:
        """The guided decoding of the module docstring's steps 2-6.

        Args:
            image_embeddings: (B, 256, G, G).
            block_features: the (B, side, side, channels) outputs of ``options.level_blocks``.
            text_embeddings: (C, D) embeddings to use instead of the stored ones (a text
                encoder training with LoRA passes its current output).

        Returns:
            fp32 logits, upsampled logits and the guide.
        """
        text = self.text_prior.embeddings if text_embeddings is None else text_embeddings
        decoder = self.mask_decoder
        batch = len(image_embeddings)
        with autocast_for(image_embeddings.device, self.precision):
            guide = self.guide(image_embeddings, text)
            fused = self.guide_fusion(image_embeddings, guide.guide)
            class_tokens = decoder.mask_tokens.weight[:1] + self.token_projection(text)
            tokens = torch.cat([decoder.iou_token.weight, class_tokens], dim=0)
            tokens = tokens.unsqueeze(0).expand(batch, -1, -1)
            dense = self.prompt_encoder.no_mask_embed.weight.reshape(1, -1, 1, 1)
            positions = self.prompt_encoder.get_dense_pe().expand(batch, -1, -1, -1)
            tokens_out, source = decoder.transformer(fused + dense, positions, tokens)
            grid = fused.shape[-2:]
            source = source.transpose(1, 2).reshape(batch, -1, *grid)
            upscaled = self.level_fusion(
                decoder.output_upscaling(source), guide.guide, block_features
            )
            low_res = self.mask_optimizer(tokens_out[:, 1:], upscaled, guide.heatmaps)
        low_res = low_res.float()
        guide = GuideOutput(*(None if t is None else t.float() for t in guide))
        return PGSAMOutput(low_res, self.upscale_logits(low_res), guide)


def _refuse_prompts(*prompts: object) -> None:
    if any(prompt is not None for prompt in prompts):
        raise ValueError("PG-SAM segments prompt-free: expected no points, boxes or masks")
