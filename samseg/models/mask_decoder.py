"""SAM's mask decoder with a prompt-free multi-class head and batched per-image decoding.

:class:`MultiClassMaskDecoder` subclasses segment_anything's ``MaskDecoder`` and keeps all of
it: the two-way transformer, the output upscaling, the four promptable mask tokens with their
hypernetwork MLPs and the IoU head, so an official checkpoint fills it completely and the
promptable path is SAM's. It adds one *class token* per class, background included, each
with its own hypernetwork MLP (freshly initialised, as SAMed's widened decoder): decoding the
class tokens gives one logit map per class, without any prompt.

Both paths decode a batch of B images at once, each image with its own prompt tokens. The
stock decoder instead repeats one image embedding once per prompt, so it cannot take B images
with B prompt sets; :meth:`MultiClassMaskDecoder.predict_masks` overrides it to pair the i-th
image with the i-th prompt set, which is the same as the stock decoder for B = 1.
"""

from __future__ import annotations

import torch
from torch import nn

from samseg.models.sam_import import import_segment_anything

_mask_decoder = import_segment_anything().modeling.mask_decoder


class MultiClassMaskDecoder(_mask_decoder.MaskDecoder):
    """SAM's mask decoder plus ``num_classes`` prompt-free class tokens."""

    def __init__(
        self,
        *,
        num_classes: int,
        transformer_dim: int,
        transformer: nn.Module,
        num_multimask_outputs: int = 3,
        activation: type[nn.Module] = nn.GELU,
        iou_head_depth: int = 3,
        iou_head_hidden_dim: int = 256,
    ) -> None:
        """
        Args:
            num_classes: classes to segment, background included (>= 1).
            transformer_dim: channels of the image embedding and the tokens (256 for SAM).
            transformer: the two-way transformer (segment_anything's ``TwoWayTransformer``).
            num_multimask_outputs: promptable masks besides the single-mask output (3).
            activation: activation of the output upscaling.
            iou_head_depth: layers of the IoU prediction MLP.
            iou_head_hidden_dim: hidden channels of the IoU prediction MLP.
        """
        if num_classes < 1:
            raise ValueError(
                f"num_classes must be >= 1 (background included), found {num_classes}."
            )
        super().__init__(
            transformer_dim=transformer_dim,
            transformer=transformer,
            num_multimask_outputs=num_multimask_outputs,
            activation=activation,
            iou_head_depth=iou_head_depth,
            iou_head_hidden_dim=iou_head_hidden_dim,
        )
        self.num_classes = num_classes
        self.class_tokens = nn.Embedding(num_classes, transformer_dim)
        self.class_hypernetworks_mlps = nn.ModuleList(
            _mask_decoder.MLP(transformer_dim, transformer_dim, transformer_dim // 8, 3)
            for _ in range(num_classes)
        )

    def predict_masks(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        mask_token_shift: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Promptable masks, image i decoded with prompt set i.

        Args:
            image_embeddings: (B, 256, h, w) image embeddings.
            image_pe: (1, 256, h, w) dense positional encoding (``get_dense_pe``).
            sparse_prompt_embeddings: (B, N, 256) point/box tokens (N may be 0).
            dense_prompt_embeddings: (B, 256, h, w) mask-prompt embeddings.
            mask_token_shift: (B, 4, 256) added to SAM's four mask tokens, per image (ProMISe's
                pattern-shifting tokens), or ``None``: SAM's tokens as they are.

        Returns:
            Mask logits (B, 4, 4h, 4w), the single-mask output first, and IoU predictions
            (B, 4).
        """
        mask_tokens = self.mask_tokens.weight
        if mask_token_shift is not None:
            mask_tokens = mask_tokens + mask_token_shift
        masks, tokens_out = self._decode(
            mask_tokens,
            self.output_hypernetworks_mlps,
            image_embeddings,
            image_pe,
            sparse_prompt_embeddings,
            dense_prompt_embeddings,
        )
        return masks, self.iou_prediction_head(tokens_out[:, 0, :])

    def forward(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        multimask_output: bool,
        mask_token_shift: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """SAM's ``MaskDecoder.forward`` (the single mask, or the three multimask outputs),
        with an optional per-image ``mask_token_shift`` (see :meth:`predict_masks`)."""
        masks, iou = self.predict_masks(
            image_embeddings,
            image_pe,
            sparse_prompt_embeddings,
            dense_prompt_embeddings,
            mask_token_shift,
        )
        chosen = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, chosen], iou[:, chosen]

    def predict_class_masks(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
    ) -> torch.Tensor:
        """Class logits, one map per class, image i decoded with prompt set i.

        Arguments as for :meth:`predict_masks`; with no prompts, pass (B, 0, 256) sparse
        embeddings and the prompt encoder's no-mask embedding as dense embeddings.

        Returns:
            Low-resolution class logits (B, num_classes, 4h, 4w).
        """
        masks, _ = self._decode(
            self.class_tokens.weight,
            self.class_hypernetworks_mlps,
            image_embeddings,
            image_pe,
            sparse_prompt_embeddings,
            dense_prompt_embeddings,
        )
        return masks

    def _decode(
        self,
        mask_tokens: torch.Tensor,
        hypernetworks: nn.ModuleList,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the transformer on [IoU token, ``mask_tokens``, prompts] for each image;
        ``mask_tokens`` is (T, 256), shared by all images, or (B, T, 256), one set per image.

        Returns:
            Masks (B, T, 4h, 4w) for the T = len(mask_tokens) tokens, and the transformer's
            output tokens (B, 1 + T + N, 256).
        """
        batch, channels, height, width = image_embeddings.shape
        for name, tensor in (
            ("sparse_prompt_embeddings", sparse_prompt_embeddings),
            ("dense_prompt_embeddings", dense_prompt_embeddings),
        ):
            if tensor.shape[0] != batch:
                raise ValueError(
                    f"{name} must have one entry per image: expected batch {batch}, "
                    f"found shape {tuple(tensor.shape)}."
                )
        output_tokens = torch.cat(
            [
                self.iou_token.weight.expand(batch, -1, -1),
                mask_tokens.expand(batch, -1, -1),
            ],
            dim=1,
        )
        tokens = torch.cat((output_tokens, sparse_prompt_embeddings), dim=1)
        src = image_embeddings + dense_prompt_embeddings
        pos_src = image_pe.expand(batch, -1, -1, -1)
        tokens_out, src = self.transformer(src, pos_src, tokens)
        mask_tokens_out = tokens_out[:, 1 : 1 + len(hypernetworks), :]
        upscaled = self.output_upscaling(
            src.transpose(1, 2).reshape(batch, channels, height, width)
        )
        hyper_in = torch.stack(
            [mlp(mask_tokens_out[:, index, :]) for index, mlp in enumerate(hypernetworks)], dim=1
        )
        masks = hyper_in @ upscaled.flatten(2)
        return masks.unflatten(2, upscaled.shape[2:]), tokens_out
