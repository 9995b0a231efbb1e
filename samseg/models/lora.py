"""LoRA on SAM's image-encoder attention, through peft, and merging it away for export.

LoRA layers wrap the ``qkv`` (and optionally ``proj``) Linear of every attention block of the
encoder (the encoder family names them: ``lora_module_pattern``, ViT and TinyViT alike): the
weight W stays frozen and W x + (alpha / rank) B A x is computed instead, A (rank, in) random,
B (out, rank) zero at the start. peft's ``LoraModel`` wraps the image encoder, so LoRA
parameter names gain ``image_encoder.model.`` and ``.base_layer`` / ``.lora_A.default``
parts; :func:`merge_lora` (peft's ``merge_and_unload``) folds B A into W and restores the
plain names, so the merged state dict loads into a network built without LoRA.

**q and v only (SAMed).** SAM computes queries, keys and values with one fused Linear
``qkv`` (out = 3 * dim rows). Which rows are q, k and v is the encoder family's answer
(``qkv_rows``): SAM's ViT has q, then k, then v; TinyViT groups them by head (q, k, v of head
0, then of head 1, ...). ``targets=("qkv",)`` (the default) puts one rank-r LoRA on that fused
Linear. ``targets=("q", "v")`` gives SAMed's parameterisation, a separate rank-r update for q
and for v and none for k, with peft's own layer: the fused Linear gets rank 2r (alpha scaled
alike, so the update scale stays alpha / r), and lora_B is block-diagonal, (q rows x first r
columns) and (v rows x last r columns). The other entries
start at zero and a gradient mask keeps them at zero for every gradient-based optimizer
(weight decay of a zero entry is zero), so B A has exactly the rows of q and v:
delta_q = B_q A_q, delta_k = 0, delta_v = B_v A_v. Any subset of q, k, v works the same way.
lora_dropout is applied to the block input once for all parts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from peft import LoraConfig
from peft.tuners.lora import LoraLayer, LoraModel
from torch import nn

from samseg.models.segmenter import SamSegmenter

ADAPTER = "default"
"""Name of samseg's LoRA adapter inside peft."""

PART_MASK = "part_mask"
"""Buffer of a masked lora_B Linear: 1 where an entry trains, 0 where it stays zero."""

QKV_PARTS = ("q", "k", "v")
LORA_TARGETS = ("qkv", *QKV_PARTS, "proj")


@dataclass(frozen=True, kw_only=True)
class LoraSettings:
    """LoRA on the image encoder's attention.

    Attributes:
        rank: rank r of each low-rank update (SAMed: 4).
        alpha: scale numerator; updates are multiplied by alpha / rank.
        dropout: dropout probability on the LoRA branch input.
        targets: ``"qkv"`` (fused), or any of ``"q"``, ``"k"``, ``"v"`` (separate updates of
            those parts of the fused Linear), optionally with ``"proj"`` (output projection).
    """

    rank: int = 4
    alpha: float = 4.0
    dropout: float = 0.0
    targets: tuple[str, ...] = ("qkv",)

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, found {self.rank}.")
        if self.alpha <= 0:
            raise ValueError(f"LoRA alpha must be > 0, found {self.alpha}.")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"LoRA dropout must be in [0, 1), found {self.dropout}.")
        unknown = [target for target in self.targets if target not in LORA_TARGETS]
        if not self.targets or unknown or len(set(self.targets)) != len(self.targets):
            raise ValueError(
                f"LoRA targets must be distinct names among {', '.join(LORA_TARGETS)}, "
                f"found {self.targets}."
            )
        if "qkv" in self.targets and self.qkv_parts:
            raise ValueError(
                f"LoRA targets: use 'qkv' (fused) or parts of it ('q', 'k', 'v'), not both; "
                f"found {self.targets}."
            )

    @property
    def qkv_parts(self) -> tuple[str, ...]:
        """The separately adapted parts of qkv, in q, k, v order (empty when fused)."""
        return tuple(part for part in QKV_PARTS if part in self.targets)


def has_lora(model: SamSegmenter) -> bool:
    """Whether ``model``'s image encoder carries LoRA layers."""
    return isinstance(model.image_encoder, LoraModel)


def apply_lora(model: SamSegmenter, settings: LoraSettings) -> None:
    """Add LoRA layers to ``model``'s image-encoder attention, in place.

    Only the LoRA parameters of the encoder are left trainable; use
    ``samseg.models.freezing.apply_freezing`` to choose the policy for the rest.

    Raises:
        ValueError: the model already has LoRA layers.
    """
    if has_lora(model):
        raise ValueError("The model already has LoRA layers; merge_lora it before adding new ones.")
    parts = settings.qkv_parts
    modules = ["qkv"] if "qkv" in settings.targets or parts else []
    if "proj" in settings.targets:
        modules.append("proj")
    patterns = {"qkv": len(parts)} if parts else {}
    family = model.encoder_family
    config = LoraConfig(
        r=settings.rank,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=family.lora_module_pattern.format(modules="|".join(modules)),
        rank_pattern={name: settings.rank * count for name, count in patterns.items()},
        alpha_pattern={name: settings.alpha * count for name, count in patterns.items()},
        bias="none",
    )
    model.image_encoder = LoraModel(model.image_encoder, config, ADAPTER)
    if parts:
        for name, module in model.image_encoder.named_modules():
            if isinstance(module, LoraLayer) and name.endswith(".qkv"):
                attention = model.image_encoder.get_submodule(name.removesuffix(".qkv"))
                _restrict_to_parts(module, parts, family.qkv_rows(attention), settings.rank)


def merge_lora(model: SamSegmenter) -> None:
    """Fold the LoRA updates into the encoder weights and remove the LoRA layers, in place.

    Afterwards ``model.state_dict()`` has the plain names of a network built without LoRA.

    Raises:
        ValueError: the model has no LoRA layers.
    """
    if not has_lora(model):
        raise ValueError("The model has no LoRA layers to merge.")
    model.image_encoder = model.image_encoder.merge_and_unload()


def merged_state_dict(model: SamSegmenter) -> dict[str, torch.Tensor]:
    """State dict of ``model`` with any LoRA merged, for export; ``model`` is not changed."""
    if not has_lora(model):
        return model.state_dict()
    merged = copy.deepcopy(model)
    merge_lora(merged)
    return merged.state_dict()


def masked_entries(module: nn.Module) -> int:
    """Trainable LoRA entries inside ``module`` that part masks hold at zero (see above)."""
    return sum(
        int((mask == 0).sum())
        for layer in module.modules()
        if (mask := getattr(layer, PART_MASK, None)) is not None and layer.weight.requires_grad
    )


def _restrict_to_parts(
    layer: LoraLayer, parts: tuple[str, ...], rows: dict[str, torch.Tensor], rank: int
) -> None:
    """Make the fused qkv LoRA update block-diagonal: rank columns per adapted part.

    ``rows`` maps q, k and v to their output rows of the fused Linear.
    """
    lora_b = layer.lora_B[ADAPTER]
    mask = torch.zeros_like(lora_b.weight)
    for column, part in enumerate(parts):
        mask[rows[part], column * rank : (column + 1) * rank] = 1
    lora_b.register_buffer(PART_MASK, mask, persistent=False)
    with torch.no_grad():
        lora_b.weight.mul_(mask)
    lora_b.weight.register_hook(lambda grad: grad * getattr(lora_b, PART_MASK))
