"""ProMISeNetwork: a frozen SAM prompted by an auto-prompting module (APM) and shifted by
incremental pattern-shifting (IPS) tokens from a pattern embedding (PaE).

Per image and class c: the APM regresses K point prompts (fixed labels per slot: positives
first) or a box from chosen encoder block outputs; the PaE turns the pooled image embedding
into four 256-d tokens added to SAM's four mask tokens; SAM's own prompt encoder and mask
decoder (``SamSegmenter.predict_with_prompts``) decode each (image, class) pair once, and
the first multimask output is class c's logit map. SAM's weights never change: the backbone
stays in eval mode and its encoder runs without gradients. Manual prompts run through the same
interface, with or without the IPS tokens (:meth:`ProMISeNetwork.predict_with_prompts`).

Coordinates are (x, y) input pixels of the S x S image, as SAM's. Logit maps are 4G pixels a
side (G the embedding grid; S / 4 for the ViT, S for TinyViT).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from samseg.models.encoders import EncoderFamily
from samseg.models.promise.cnn_apm import CnnAutoPrompter, CnnPromptBody
from samseg.models.promise.pae import PatternEmbedding
from samseg.models.promise.settings import ProMISeSettings
from samseg.models.promise.transformer_apm import TransformerAutoPrompter
from samseg.models.segmenter import EncodedImages, Points, PromptedMasks, SamSegmenter

ABSENT_LOGIT = -1.0e4
"""The logit of every pixel of a class the presence head calls absent from the slice."""


class ProMISeOutput(NamedTuple):
    """What :meth:`ProMISeNetwork.segment` returns, fp32, Cf foreground classes."""

    low_res_logits: torch.Tensor
    """(B, Cf, 4G, 4G) the first multimask output of every class's decoder pass."""
    presence_logits: torch.Tensor | None
    """(B, Cf) per-slice class presence logits (presence head), or ``None``."""
    points: Points | None
    """The point prompts decoded: (B, Cf, K, 2) input pixels and (B, Cf, K) labels."""
    boxes: torch.Tensor | None
    """(B, Cf, 4) box prompts (x0, y0, x1, y1) in input pixels (APM-box), or ``None``."""


class ProMISeHead(nn.Module):
    """One APM and/or PaE predicting for ``classes`` classes."""

    def __init__(
        self, settings: ProMISeSettings, classes: int, channels: Sequence[int], grid: int
    ) -> None:
        super().__init__()
        slots = 2 if settings.apm_prompt == "box" else settings.num_points
        self.apm: nn.Module | None = None
        if settings.apm == "cnn":
            body = CnnPromptBody(
                channels,
                grid,
                fusion_channels=settings.fusion_channels,
                widths=settings.cnn_widths,
                depths=settings.cnn_depths,
            )
            self.apm = CnnAutoPrompter(body, classes, slots, settings.presence_head)
        elif settings.apm == "transformer":
            self.apm = TransformerAutoPrompter(
                channels,
                classes,
                slots,
                width=settings.transformer_width,
                heads=settings.transformer_heads,
                presence=settings.presence_head,
            )
        self.pae = PatternEmbedding(classes, settings.pae_hidden) if settings.ips else None


class ProMISeNetwork(nn.Module):
    """A frozen :class:`SamSegmenter` with ProMISe's trainable APM and PaE.

    Args:
        sam: the backbone (its weights are never trained; kept in eval mode).
        settings: the modules to add (``settings.blocks`` must be blocks of ``sam``'s
            encoder).
        model_type: the backbone's model type (gives the block outputs' channels).
    """

    def __init__(self, sam: SamSegmenter, settings: ProMISeSettings, model_type: str) -> None:
        super().__init__()
        self.sam = sam
        self.settings = settings
        grid = sam.encoder_family.embedding_grid(sam.input_size)
        shapes = sam.encoder_family.block_features(model_type, sam.input_size)
        channels = [shapes[block].channels for block in settings.blocks]
        self.heads = nn.ModuleList(
            ProMISeHead(settings, settings.classes_per_head, channels, grid)
            for _ in range(settings.heads)
        )
        self.register_buffer("point_labels", self._slot_labels(settings), persistent=False)
        self.sam.eval()

    @staticmethod
    def _slot_labels(settings: ProMISeSettings) -> torch.Tensor:
        positives = torch.ones(settings.positive_points, dtype=torch.int64)
        return torch.cat([positives, torch.zeros(settings.negative_points, dtype=torch.int64)])

    @property
    def input_size(self) -> int:
        """S, the input side in pixels."""
        return self.sam.input_size

    @property
    def num_classes(self) -> int:
        """C = Cf + 1, classes of :meth:`forward`'s output, background included."""
        return self.settings.foreground_classes + 1

    @property
    def image_encoder(self) -> nn.Module:
        """The backbone's (frozen) image encoder."""
        return self.sam.image_encoder

    @property
    def encoder_family(self) -> EncoderFamily:
        """The backbone's encoder family."""
        return self.sam.encoder_family

    @property
    def precision(self) -> str:
        """The backbone's compute precision (see ``samseg.models.precision``)."""
        return self.sam.precision

    @precision.setter
    def precision(self, precision: str) -> None:
        self.sam.precision = precision

    def train(self, mode: bool = True) -> ProMISeNetwork:
        """Set the APM and PaE to ``mode``; the frozen backbone always computes as in
        evaluation (no training-mode behaviour of any SAM module)."""
        super().train(mode)
        self.sam.eval()
        return self

    def encode(self, images: torch.Tensor, return_blocks: Sequence[int] = ()) -> EncodedImages:
        """The backbone's (B, 256, G, G) embeddings and (B, side, side, C) block outputs of
        (B, 3, S, S) 0-255 images, computed without gradients (the encoder is frozen)."""
        with torch.no_grad():
            return self.sam.encode(images, return_blocks)

    def auto_prompts(
        self, block_features: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The APM: (B, Cf, Q, 2) coordinates in input pixels and (B, Cf) presence logits
        (or ``None``) from the ``settings.blocks`` outputs, in that order."""
        outputs = [head.apm(block_features) for head in self.heads]
        coordinates = torch.cat([o[0] for o in outputs], dim=1) * self.input_size
        presence = None
        if self.settings.presence_head:
            presence = torch.cat([o[1] for o in outputs], dim=1)
        return coordinates, presence

    def ips_tokens(self, image_embeddings: torch.Tensor) -> torch.Tensor | None:
        """(B, Cf, 4, 256) IPS tokens of (B, 256, G, G) embeddings, or ``None`` without IPS."""
        if not self.settings.ips:
            return None
        return torch.cat([head.pae(image_embeddings) for head in self.heads], dim=1)

    def segment(
        self,
        image_embeddings: torch.Tensor,
        block_features: Sequence[torch.Tensor] = (),
        *,
        points: Points | None = None,
    ) -> ProMISeOutput:
        """Every class's logits: one decoder pass per (image, class) pair.

        Args:
            image_embeddings: (B, 256, G, G).
            block_features: the ``settings.blocks`` outputs, (B, side, side, C) each (unused
                without an APM).
            points: given point prompts, (B, Cf, K', 2) input pixels and (B, Cf, K') labels
                (1, 0, or -1 for padding), used instead of the APM's (IPS with label-sampled
                or manual points; the APM then runs only for its presence head); ``None``:
                the APM's prompts (no prompt without an APM).

        Returns:
            :class:`ProMISeOutput`.
        """
        batch, classes = len(image_embeddings), self.settings.foreground_classes
        presence, boxes = None, None
        if self.settings.apm is not None and (points is None or self.settings.presence_head):
            coordinates, presence = self.auto_prompts(block_features)
            if points is None and self.settings.apm_prompt == "box":
                low, high = coordinates.amin(dim=2), coordinates.amax(dim=2)
                boxes = torch.cat([low, high], dim=2)
            elif points is None:
                labels = self.point_labels.expand(batch, classes, -1)
                points = (coordinates, labels)
        ips = self.ips_tokens(image_embeddings)
        decoded = self.sam.predict_with_prompts(
            image_embeddings.repeat_interleave(classes, dim=0),
            None if points is None else (points[0].flatten(0, 1), points[1].flatten(0, 1)),
            None if boxes is None else boxes.flatten(0, 1),
            multimask_output=True,
            mask_token_shift=None if ips is None else ips.flatten(0, 1),
        )
        low_res = decoded.low_res_logits[:, 0].unflatten(0, (batch, classes))
        return ProMISeOutput(low_res, presence, points, boxes)

    def predict_with_prompts(
        self,
        image_embeddings: torch.Tensor,
        points: Points | None = None,
        boxes: torch.Tensor | None = None,
        mask_inputs: torch.Tensor | None = None,
        *,
        classes: torch.Tensor | None = None,
        use_ips: bool = True,
        multimask_output: bool = False,
    ) -> PromptedMasks:
        """SAM's promptable interface with manual prompts, through class c's IPS tokens.

        Args:
            image_embeddings, points, boxes, mask_inputs, multimask_output: as
                ``SamSegmenter.predict_with_prompts`` (one prompt set per image).
            classes: (B,) foreground class index 0 .. Cf - 1 (label value - 1) of each prompt
                set, whose IPS tokens shift the decoder; ``None``: class 0 of a one-class
                network.
            use_ips: ``False`` decodes with plain SAM (the backbone's own decoder).

        Returns:
            fp32 (B, M, 4G, 4G) logits and (B, M) IoU predictions.

        Raises:
            ValueError: no ``classes`` for a network of several classes, or an index out of
                range.
        """
        shift = self.ips_tokens(image_embeddings) if use_ips else None
        if shift is not None:
            index = self._prompt_classes(classes, len(image_embeddings)).to(shift.device)
            shift = shift[torch.arange(len(shift)), index]
        return self.sam.predict_with_prompts(
            image_embeddings,
            points,
            boxes,
            mask_inputs,
            multimask_output=multimask_output,
            mask_token_shift=shift,
        )

    def _prompt_classes(self, classes: torch.Tensor | None, batch: int) -> torch.Tensor:
        """(B,) int64 IPS head index of each prompt set (see :meth:`predict_with_prompts`)."""
        count = self.settings.foreground_classes
        if classes is None:
            if count > 1:
                raise ValueError(
                    f"a ProMISe network of {count} classes decodes manual prompts with one "
                    "class's IPS tokens: give classes (label value - 1 per prompt set)"
                )
            return torch.zeros(batch, dtype=torch.int64)
        index = torch.as_tensor(classes, dtype=torch.int64)
        if index.shape != (batch,) or bool(((index < 0) | (index >= count)).any()):
            raise ValueError(
                f"classes: expected ({batch},) indices in 0 .. {count - 1}, found {index.tolist()}"
            )
        return index

    def upscale_logits(self, low_res_logits: torch.Tensor) -> torch.Tensor:
        """(B, M, 4G, 4G) -> (B, M, S, S) bilinear (SAM's)."""
        return self.sam.upscale_logits(low_res_logits)

    def class_logits(self, output: ProMISeOutput) -> torch.Tensor:
        """(B, C, S, S) logits for the slice predictor: channel 0 is 0, channel c is class
        c's upscaled logit, :data:`ABSENT_LOGIT` where the presence head calls c absent; so
        after a softmax a pixel is background iff no class has a positive logit there, and
        the class with the largest logit wins where several do."""
        logits = self.sam.upscale_logits(output.low_res_logits)
        if output.presence_logits is not None:
            absent = (output.presence_logits < 0)[:, :, None, None]
            logits = torch.where(absent, torch.full_like(logits, ABSENT_LOGIT), logits)
        return torch.cat([torch.zeros_like(logits[:, :1]), logits], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) 0-255 images -> (B, C, S, S) fp32 class logits (:meth:`class_logits`)."""
        encoded = self.encode(images, self.settings.blocks)
        return self.class_logits(self.segment(encoded.image_embeddings, encoded.block_features))
