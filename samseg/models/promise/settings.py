"""ProMISe's settings: which modules exist, how many prompt slots, how large the modules are.

The settings are the ``promise`` network kind's options (with the backbone's ``NetworkSpec``,
see ``samseg.models.promise.spec``), so a checkpoint alone rebuilds the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from samseg.errors import SamsegInputError
from samseg.models.encoders import get_encoder_family

ApmKind = Literal["cnn", "transformer"]
"""``cnn``: fused features -> ResNet-34-style body -> pooled vector (the paper's default);
``transformer``: learned queries cross-attending to each feature level."""

ApmPrompt = Literal["points", "box"]
"""``points``: K point prompts with fixed labels (the paper); ``box``: two box corners
(samseg's extension, for box-trained backbones such as LiteMedSAM)."""

APM_LEVELS = 3
"""Encoder levels the APM fuses (the official ViT-B taps: blocks 6, 9 and 12)."""


def apm_blocks(model_type: str) -> tuple[int, ...]:
    """The encoder blocks (0-based) whose outputs the APM fuses: the last :data:`APM_LEVELS`
    of the family's level ends plus the last block (vit_b: 5, 8, 11, the official taps;
    litemedsam: 3, 9, 11)."""
    family = get_encoder_family(model_type)
    depth = len(family.block_features(model_type, family.pretrained_input_size(model_type)))
    ends = (*family.level_blocks(model_type), depth - 1)
    return tuple(sorted(set(ends)))[-APM_LEVELS:]


@dataclass(frozen=True, kw_only=True)
class ProMISeSettings:
    """What a ProMISe network holds besides the frozen SAM.

    Attributes:
        foreground_classes: Cf, classes segmented (background not counted; 1: the paper).
        apm: the auto-prompting module's kind, or ``None`` (IPS alone: prompts are given).
        apm_prompt: what the APM predicts, points (the paper) or a box (samseg's extension).
        ips: whether the pattern embedding adds IPS tokens to SAM's mask tokens.
        positive_points, negative_points: point slots per class, labels fixed per slot
            (positives first): 8 + 8 (16P), 2 + 3 (5P) or 1 + 2 (3P).
        class_conditional: one APM and PaE with outputs per class (samseg's multi-class
            extension); ``False``: one independent binary APM and PaE per class (baseline).
        presence_head: a per-slice logit per class; where it is negative the class gets no
            mask (samseg's extension; needs an APM).
        blocks: encoder blocks (0-based) the APM fuses; empty without an APM.
        cnn_widths, cnn_depths: channels and residual blocks of the CNN body's four stages
            (ResNet-34: 64/128/256/512 and 3/4/6/3).
        fusion_channels: channels of the fused feature map (256).
        transformer_width, transformer_heads: width and heads of the Transformer APM.
        pae_hidden: hidden width of the pattern embedding MLP (1024).
    """

    foreground_classes: int = 1
    apm: ApmKind | None = "cnn"
    apm_prompt: ApmPrompt = "points"
    ips: bool = True
    positive_points: int = 8
    negative_points: int = 8
    class_conditional: bool = True
    presence_head: bool = False
    blocks: tuple[int, ...] = ()
    cnn_widths: tuple[int, ...] = (64, 128, 256, 512)
    cnn_depths: tuple[int, ...] = (3, 4, 6, 3)
    fusion_channels: int = 256
    transformer_width: int = 256
    transformer_heads: int = 8
    pae_hidden: int = 1024

    def __post_init__(self) -> None:
        problems = []
        if self.foreground_classes < 1:
            problems.append(f"foreground_classes >= 1, found {self.foreground_classes}")
        if self.apm not in (None, "cnn", "transformer"):
            problems.append(f"apm cnn, transformer or None, found {self.apm!r}")
        if self.apm_prompt not in ("points", "box"):
            problems.append(f"apm_prompt points or box, found {self.apm_prompt!r}")
        if self.positive_points < 0 or self.negative_points < 0 or self.num_points < 1:
            problems.append(
                f"a positive number of point slots, found {self.positive_points} positive "
                f"and {self.negative_points} negative"
            )
        if self.apm is None and (self.presence_head or self.blocks):
            problems.append("no presence head and no blocks without an APM")
        if self.apm is not None and not self.blocks:
            problems.append("the encoder blocks the APM fuses")
        if self.apm is None and not self.ips:
            problems.append("an APM or IPS tokens (else nothing is trained)")
        if len(self.cnn_widths) != len(self.cnn_depths) or not self.cnn_widths:
            problems.append(
                f"as many CNN stage widths as depths, found {self.cnn_widths} and {self.cnn_depths}"
            )
        if self.transformer_width % self.transformer_heads:
            problems.append(
                f"transformer_width a multiple of transformer_heads, found "
                f"{self.transformer_width} and {self.transformer_heads}"
            )
        if problems:
            raise SamsegInputError(f"ProMISe settings: expected {'; '.join(problems)}")

    @property
    def num_points(self) -> int:
        """K, point slots per class."""
        return self.positive_points + self.negative_points

    @property
    def heads(self) -> int:
        """Independent APM/PaE modules: 1 (class-conditional) or Cf (one per class)."""
        return 1 if self.class_conditional else self.foreground_classes

    @property
    def classes_per_head(self) -> int:
        """Classes each APM/PaE module predicts for."""
        return self.foreground_classes if self.class_conditional else 1

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-able options (tuples as lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> ProMISeSettings:
        """Parse :meth:`to_json` output.

        Raises:
            SamsegInputError: not a dict, unknown entries or bad values (naming ``where``).
        """
        known = {f.name for f in fields(cls)}
        if not isinstance(data, Mapping) or set(data) - known:
            extra = sorted(set(data) - known) if isinstance(data, Mapping) else data
            raise SamsegInputError(
                f"{where}: expected ProMISe settings with entries of {sorted(known)}, found "
                f"{extra!r}"
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        try:
            return cls(**values)
        except SamsegInputError as error:
            raise SamsegInputError(f"{where}: {error}") from None
