"""SamSegmenter: a batch of slices in, class logits out; SAM's prompt interface kept.

The network every samseg trainer, the slice predictor and P²SAM use. It holds an image
encoder of one family (segment_anything's ``ImageEncoderViT`` or samseg's ``TinyViT``, see
``samseg.models.encoders``), segment_anything's ``PromptEncoder`` and a
:class:`~samseg.models.mask_decoder.MultiClassMaskDecoder`, under the same attribute (and so
state-dict) names as segment_anything's ``Sam``, and offers three calls:

- ``forward(images)``: prompt-free multi-class logits, (B, C, S, S) and (B, C, 4G, 4G).
- ``encode(images, return_blocks)``: the image embedding and chosen encoder block outputs.
- ``predict_with_prompts(embeddings, points, boxes, mask_inputs)``: SAM's promptable
  single-mask output with IoU predictions, one prompt set per image.

``Sam.forward`` runs under ``torch.no_grad``; nothing here does, so all of it trains.
Coordinates are in input pixels (x, y) of the S x S image, as in SAM. G is the embedding
grid, S / 16 for the ViT family and S / 4 for TinyViT; the low-resolution logits and mask
prompts are 4G pixels a side (S / 4 for the ViT, S for TinyViT).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from samseg.models.architectures import SAM_PIXEL_MEAN, SAM_PIXEL_STD
from samseg.models.encoders import EncoderFamily
from samseg.models.mask_decoder import MultiClassMaskDecoder
from samseg.models.precision import Precision, autocast_for, check_precision

Points = tuple[torch.Tensor, torch.Tensor]
"""Point prompts: coordinates (B, N, 2) as (x, y) input pixels and labels (B, N): 1 foreground,
0 background, -1 padding (lets images of one batch have different numbers of points)."""


class SegmenterOutput(NamedTuple):
    """Prompt-free multi-class output, fp32 logits."""

    low_res_logits: torch.Tensor
    """(B, num_classes, 4G, 4G) decoder output."""
    logits: torch.Tensor
    """(B, num_classes, S, S) low_res_logits upsampled bilinearly to the input size."""


class EncodedImages(NamedTuple):
    """Image encoder outputs, fp32."""

    image_embeddings: torch.Tensor
    """(B, 256, G, G) neck output, the decoder's input."""
    block_features: list[torch.Tensor]
    """(B, side, side, channels) outputs of the requested blocks, in the requested order
    (ViT: side G, channels embed_dim; TinyViT: the block's stage side and width)."""


class PromptedMasks(NamedTuple):
    """Promptable output, fp32."""

    low_res_logits: torch.Tensor
    """(B, M, 4G, 4G) mask logits, M = 1 (single mask) or 3 (multimask output)."""
    iou_predictions: torch.Tensor
    """(B, M) predicted IoU of each mask."""


class SamSegmenter(nn.Module):
    """SAM with a prompt-free multi-class head and a batched promptable interface."""

    def __init__(
        self,
        *,
        image_encoder: nn.Module,
        encoder_family: EncoderFamily,
        prompt_encoder: nn.Module,
        mask_decoder: MultiClassMaskDecoder,
        pixel_mean: Sequence[float] = SAM_PIXEL_MEAN,
        pixel_std: Sequence[float] = SAM_PIXEL_STD,
        precision: Precision = "auto",
    ) -> None:
        """
        Args:
            image_encoder: an encoder of ``encoder_family`` (e.g. ``ImageEncoderViT``).
            encoder_family: the family that runs the encoder and chooses the pixel
                normalisation (see ``samseg.models.encoders``).
            prompt_encoder: segment_anything's ``PromptEncoder`` for the same input size.
            mask_decoder: the multi-class mask decoder.
            pixel_mean: per-channel mean of the 0-255 input, subtracted first
                (``sam_mean_std`` normalisation only).
            pixel_std: per-channel standard deviation of the 0-255 input, divided by next.
            precision: ``auto`` (bf16 autocast on CUDA), ``fp32``, or ``bf16`` / ``fp16``
                (autocast on every device); see ``samseg.models.precision``. Settable later.
        """
        super().__init__()
        self.image_encoder = image_encoder
        self.encoder_family = encoder_family
        self.prompt_encoder = prompt_encoder
        self.mask_decoder = mask_decoder
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean).view(1, -1, 1, 1), False)
        self.register_buffer("pixel_std", torch.tensor(pixel_std).view(1, -1, 1, 1), False)
        self.precision = precision

    @property
    def precision(self) -> Precision:
        """``auto``, ``fp32``, ``bf16`` or ``fp16``; see ``samseg.models.precision``."""
        return self._precision

    @precision.setter
    def precision(self, precision: Precision) -> None:
        self._precision = check_precision(precision)

    @property
    def input_size(self) -> int:
        """Side S, in pixels, of the square images the network takes."""
        return int(self.prompt_encoder.input_image_size[0])

    @property
    def num_classes(self) -> int:
        """Classes of the prompt-free head, background included."""
        return self.mask_decoder.num_classes

    def forward(
        self,
        images: torch.Tensor,
        *,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
    ) -> SegmenterOutput:
        """Class logits for a batch of images.

        Args:
            images: (B, 3, S, S) float images in SAM's 0-255 pixel range.
            points, boxes, mask_inputs: optional prompts, one set per image (see
                :meth:`embed_prompts`); by default none.

        Returns:
            fp32 logits (B, C, 4G, 4G) and (B, C, S, S).
        """
        embeddings = self.encode(images).image_embeddings
        return self.decode_classes(embeddings, points=points, boxes=boxes, mask_inputs=mask_inputs)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Normalise (B, 3, S, S) 0-255 images as the encoder family wants.

        ``sam_mean_std``: SAM's per-channel pixel mean and std. ``min_max`` (LiteMedSAM): each
        image scaled to [0, 1] by its own minimum and maximum over all channels and pixels
        (padding included; a constant image becomes 0).

        Raises:
            ValueError: not a floating (B, 3, S, S) tensor.
        """
        size = self.input_size
        if images.dim() != 4 or tuple(images.shape[1:]) != (3, size, size):
            raise ValueError(
                f"images must be (B, 3, {size}, {size}) for this network, "
                f"found {tuple(images.shape)}."
            )
        if not images.is_floating_point():
            raise ValueError(f"images must be a floating tensor, found {images.dtype}.")
        if self.encoder_family.normalisation == "min_max":
            low = images.amin(dim=(1, 2, 3), keepdim=True)
            high = images.amax(dim=(1, 2, 3), keepdim=True)
            return (images - low) / (high - low).clamp_min(1e-8)
        return (images - self.pixel_mean) / self.pixel_std

    def encode(self, images: torch.Tensor, return_blocks: Sequence[int] = ()) -> EncodedImages:
        """Image embeddings and the outputs of the blocks in ``return_blocks``.

        Args:
            images: (B, 3, S, S) float images in SAM's 0-255 pixel range.
            return_blocks: encoder block indices (0-based) whose outputs to return.

        Returns:
            (B, 256, G, G) embeddings and a list of (B, side, side, channels) tensors.
        """
        normalised = self.preprocess(images)
        with autocast_for(normalised.device, self.precision):
            neck, blocks = self.encoder_family.encode(
                self.image_encoder, normalised, return_blocks
            )
        return EncodedImages(neck.float(), [block.float() for block in blocks])

    def decode_classes(
        self,
        image_embeddings: torch.Tensor,
        *,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
    ) -> SegmenterOutput:
        """Prompt-free (or per-image prompted) class logits from (B, 256, G, G) embeddings."""
        with autocast_for(image_embeddings.device, self.precision):
            sparse, dense = self.embed_prompts(len(image_embeddings), points, boxes, mask_inputs)
            low_res = self.mask_decoder.predict_class_masks(
                image_embeddings, self.prompt_encoder.get_dense_pe(), sparse, dense
            )
        low_res = low_res.float()
        return SegmenterOutput(low_res, self.upscale_logits(low_res))

    def predict_with_prompts(
        self,
        image_embeddings: torch.Tensor,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
        *,
        multimask_output: bool = False,
        mask_token_shift: torch.Tensor | None = None,
        classes: torch.Tensor | None = None,
    ) -> PromptedMasks:
        """SAM's promptable masks, image i decoded with prompt set i.

        Args:
            image_embeddings: (B, 256, G, G) from :meth:`encode`.
            points, boxes, mask_inputs: prompts, one set per image (see :meth:`embed_prompts`).
            multimask_output: return SAM's three ambiguity masks instead of the single mask.
            mask_token_shift: (B, 4, 256) added to the decoder's four mask tokens per image
                (ProMISe's pattern-shifting tokens); ``None``: SAM's decoder as it is.
            classes: (B,) class index of each prompt set
                (``samseg.models.promptable.PromptableNetwork``): SAM's decoder is the same
                for every class, so the masks do not depend on it.

        Returns:
            fp32 mask logits (B, M, 4G, 4G) and IoU predictions (B, M), M = 1 or 3.
        """
        with autocast_for(image_embeddings.device, self.precision):
            sparse, dense = self.embed_prompts(len(image_embeddings), points, boxes, mask_inputs)
            masks, iou = self.mask_decoder(
                image_embeddings=image_embeddings,
                image_pe=self.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask_output,
                mask_token_shift=mask_token_shift,
            )
        return PromptedMasks(masks.float(), iou.float())

    def embed_prompts(
        self,
        batch_size: int,
        points: Points | None,
        boxes: torch.Tensor | None,
        mask_inputs: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prompt tokens for ``batch_size`` images, one prompt set per image.

        Args:
            batch_size: B, the number of images.
            points: coordinates (B, N, 2) in input pixels (x, y) and labels (B, N), or None.
            boxes: (B, 4) boxes (x0, y0, x1, y1) in input pixels, or None.
            mask_inputs: (B, 1, 4G, 4G) mask logits (e.g. a previous low_res_logits), or None.

        Returns:
            Sparse tokens (B, N', 256), N' = 0 without points and boxes, and dense embeddings
            (B, 256, G, G).

        Raises:
            ValueError: a prompt with another batch size than B.
        """
        given = {
            "points": None if points is None else points[0],
            "point labels": None if points is None else points[1],
            "boxes": boxes,
            "mask_inputs": mask_inputs,
        }
        for name, tensor in given.items():
            if tensor is not None and tensor.shape[0] != batch_size:
                raise ValueError(
                    f"{name} must hold one prompt set per image: expected batch {batch_size}, "
                    f"found shape {tuple(tensor.shape)}."
                )
        sparse, dense = self.prompt_encoder(points=points, boxes=boxes, masks=mask_inputs)
        return sparse.expand(batch_size, -1, -1), dense.expand(batch_size, -1, -1, -1)

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        """Upsample (B, C, 4G, 4G) logits bilinearly to (B, C, S, S)."""
        size = (self.input_size, self.input_size)
        if tuple(low_res_logits.shape[-2:]) == size:
            return low_res_logits
        return F.interpolate(low_res_logits, size, mode="bilinear", align_corners=False)
