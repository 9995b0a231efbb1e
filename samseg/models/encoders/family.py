"""The seam for image-encoder families: what samseg asks of a SAM image encoder.

A family (SAM's ViT, LiteMedSAM's TinyViT) answers, for each of its model types: how to build
the encoder, which input sizes it accepts and the embedding grid they give, how 0-255 pixels
are normalised, which intermediate block features :meth:`EncoderFamily.encode` can return,
which Linear layers LoRA may target and which rows of a fused qkv are q, k and v, whether the
SDPA attention path applies, its memory figures for the planner, and where its weights come
from. The prompt encoder and mask decoder are SAM's for every family: they only need the
embedding grid (256 channels) and the input size.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from samseg.errors import SamsegInputError

PixelNormalisation = Literal["sam_mean_std", "min_max"]
"""``sam_mean_std``: (x - SAM mean) / SAM std per channel of the 0-255 input (SAM, MedSAM).
``min_max``: each image scaled to [0, 1] by its own minimum and maximum (LiteMedSAM)."""


@dataclass(frozen=True)
class BlockFeature:
    """Shape of one block's output at a given input size: a (B, side, side, channels) grid."""

    side: int
    channels: int


@dataclass(frozen=True)
class MemoryFigures:
    """Training-memory figures the planner sizes batches with.

    Attributes:
        parameters_millions: parameters of the whole network (16 bytes each when every weight
            trains with AdamW: weight, gradient, two moments).
        per_slice_gb_at_512: activation memory per slice when fine-tuning at 512 px input;
            it grows with the pixel count, (input_size / 512) ** 2.
    """

    parameters_millions: float
    per_slice_gb_at_512: float

    def per_slice_gb(self, input_size: int) -> float:
        """Activation memory (GB) per slice at ``input_size`` pixels."""
        return self.per_slice_gb_at_512 * (input_size / 512) ** 2


class EncoderFamily(ABC):
    """One family of image encoders; see the module docstring for what it answers."""

    name: str
    """Short family name, e.g. ``vit`` or ``tinyvit``."""
    model_types: tuple[str, ...]
    """The ``build_sam`` model types of this family."""
    downsampling: int
    """Input pixels per embedding cell along a side (16 for SAM's ViT, 4 for TinyViT)."""
    size_multiple: int
    """Accepted input sides are positive multiples of this."""
    normalisation: PixelNormalisation
    """How 0-255 images are normalised before the encoder."""
    fast_attention: bool
    """Whether ``build_sam(fast_attention=True)`` switches the attention to the SDPA path
    (:meth:`use_fast_attention`): True where it pays."""
    lora_module_pattern: str
    """Regular expression (peft ``target_modules``) of the attention Linear layers LoRA may
    wrap; ``{modules}`` is replaced by an alternation of ``qkv`` and/or ``proj``."""

    @abstractmethod
    def build(self, model_type: str, input_size: int) -> nn.Module:
        """A randomly initialised encoder: (B, 3, S, S) -> (B, 256, S / downsampling, ...)."""

    @abstractmethod
    def pretrained_input_size(self, model_type: str) -> int:
        """Input side the model type's official weights were trained at."""

    @abstractmethod
    def encode(
        self, image_encoder: nn.Module, images: torch.Tensor, return_blocks: Sequence[int]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The embedding (B, 256, G, G) and the (B, side, side, C) outputs of chosen blocks."""

    @abstractmethod
    def block_features(self, model_type: str, input_size: int) -> list[BlockFeature]:
        """Shape of every block's output, in block order (the indices ``encode`` takes)."""

    @abstractmethod
    def level_blocks(self, model_type: str) -> tuple[int, ...]:
        """Blocks that end a level of the encoder, shallow to deep, the last level (the
        neck's input) left out: the intermediate features multi-level methods fuse (ViT: the
        global-attention blocks; TinyViT: the last block of every stage)."""

    @abstractmethod
    def qkv_rows(self, attention: nn.Module) -> dict[str, torch.Tensor]:
        """Row indices of q, k and v in the fused ``attention.qkv`` Linear, by part name."""

    @abstractmethod
    def use_fast_attention(self, image_encoder: nn.Module, enabled: bool) -> int:
        """Switch the encoder's attention to SDPA (or back); returns modules switched."""

    @abstractmethod
    def memory(self, model_type: str) -> MemoryFigures:
        """Planner memory figures of ``model_type``."""

    @abstractmethod
    def checkpoint_files(self, model_type: str) -> tuple[str, ...]:
        """Official checkpoint file names of ``model_type`` (empty: none exist)."""

    def default_checkpoint(self, model_type: str) -> Path | None:
        """An installed official checkpoint file of ``model_type``, if samseg can locate one.

        Raises:
            SamsegConfigError: the family ships its weights in a package that is installed
                but whose file fails verification.
        """
        return None

    def weights_hint(self, model_type: str) -> str:
        """Where a user gets ``model_type``'s official weights (for error messages)."""
        return ""

    def check_input_size(self, input_size: int) -> int:
        """Return ``input_size`` if this family accepts it.

        Raises:
            SamsegInputError: not a positive multiple of :attr:`size_multiple`.
        """
        if isinstance(input_size, bool) or not isinstance(input_size, int) or input_size <= 0:
            raise SamsegInputError(
                f"SAM input size must be a positive integer, found {input_size!r}."
            )
        if input_size % self.size_multiple:
            raise SamsegInputError(
                f"{self.name} encoders take input sizes that are multiples of "
                f"{self.size_multiple} pixels (e.g. 256, 512, 1024), found {input_size}."
            )
        return input_size

    def embedding_grid(self, input_size: int) -> int:
        """Side G of the (256, G, G) image embedding at ``input_size`` pixels."""
        return self.check_input_size(input_size) // self.downsampling

    def low_res_size(self, input_size: int) -> int:
        """Side of the mask decoder's low-resolution logits and mask prompts: 4 G."""
        return 4 * self.embedding_grid(input_size)
