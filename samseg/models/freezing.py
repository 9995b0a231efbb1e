"""Which parameters of a SAM network train, and how many there are.

Policies:

- ``full``: every parameter trains (full fine-tuning; LoRA layers too if present).
- ``lora``: the image encoder is frozen except its LoRA layers; prompt encoder and mask
  decoder train (SAMed). Needs LoRA layers (``samseg.models.lora.apply_lora``).
- ``decoder``: the image encoder is frozen; prompt encoder and mask decoder train (decoder-only
  training, e.g. from cached image embeddings).
- ``frozen``: nothing trains (ProMISe and P²SAM keep SAM fixed; their own modules train).

Modules other than the three SAM parts (added by a method's subclass) are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from torch import nn

from samseg.models.lora import has_lora, masked_entries
from samseg.models.segmenter import SamSegmenter

FreezingPolicy = Literal["full", "lora", "decoder", "frozen"]
FREEZING_POLICIES: tuple[str, ...] = get_args(FreezingPolicy)
SAM_PARTS = ("image_encoder", "prompt_encoder", "mask_decoder")


@dataclass(frozen=True)
class ParameterCount:
    """Parameter counts of one sub-module (or ``total``)."""

    module: str
    trainable: int
    total: int


def apply_freezing(model: SamSegmenter, policy: FreezingPolicy) -> list[ParameterCount]:
    """Set ``requires_grad`` of ``model``'s SAM parameters by ``policy``, in place.

    Returns:
        The parameter counts afterwards (see :func:`count_parameters`).

    Raises:
        ValueError: an unknown policy, or ``lora`` on a model without LoRA layers.
    """
    if policy not in FREEZING_POLICIES:
        raise ValueError(
            f"Freezing policy must be one of {', '.join(FREEZING_POLICIES)}, found {policy!r}."
        )
    if policy == "lora" and not has_lora(model):
        raise ValueError("Freezing policy 'lora' needs LoRA layers: call apply_lora first.")
    for part in SAM_PARTS:
        module: nn.Module = getattr(model, part)
        for name, parameter in module.named_parameters():
            if policy == "lora" and part == "image_encoder":
                parameter.requires_grad_("lora_" in name)
            elif policy == "decoder":
                parameter.requires_grad_(part != "image_encoder")
            else:
                parameter.requires_grad_(policy != "frozen")
    return count_parameters(model)


def count_parameters(model: nn.Module) -> list[ParameterCount]:
    """Trainable and total parameter counts per direct sub-module, then a ``total`` row.

    LoRA entries that q/v-style part masks hold at zero count as parameters, not as
    trainable ones.
    """
    rows = [_count(name, child) for name, child in model.named_children()]
    rows.append(_count("total", model))
    return rows


def _count(name: str, module: nn.Module) -> ParameterCount:
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    total = sum(p.numel() for p in module.parameters())
    return ParameterCount(name, trainable - masked_entries(module), total)


def format_parameter_table(rows: list[ParameterCount]) -> str:
    """The counts as a fixed-width text table (module, trainable, total, trainable %)."""
    width = max(len("module"), *(len(row.module) for row in rows))
    lines = [f"{'module':<{width}}  {'trainable':>12}  {'total':>12}  {'%':>6}"]
    for row in rows:
        share = 100 * row.trainable / row.total if row.total else 0.0
        lines.append(
            f"{row.module:<{width}}  {row.trainable:>12,}  {row.total:>12,}  {share:>6.2f}"
        )
    return "\n".join(lines)
