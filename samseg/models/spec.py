"""The options of the ``sam_segmenter`` and ``promptable_sam`` network kinds: model type,
input size, classes, LoRA.

Trainers write ``NetworkSpec.to_json()`` (``{"kind": "sam_segmenter", **options}``) into
every checkpoint under ``"network"``; the builder registry (``samseg.models.network_kinds``)
reads it back and calls :meth:`NetworkSpec.build`, so prediction never depends on the command
line that trained the model (see ``samseg.models.checkpoint_format``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from samseg.errors import SamsegInputError
from samseg.models.builder import build_sam
from samseg.models.checkpoint_format import (
    KIND_KEY,
    PROMPTABLE_SAM_KIND,
    SAM_SEGMENTER_KIND,
    NetworkDescription,
)
from samseg.models.lora import LoraSettings
from samseg.models.segmenter import SamSegmenter


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    """Architecture of a trained SAM segmenter (weights not included).

    Attributes:
        model_type: one of ``samseg.models.MODEL_TYPES`` (``vit_b`` ... ``litemedsam``).
        input_size: side of the square input, pixels.
        num_classes: output classes, background included.
        lora: LoRA settings when the encoder carries LoRA layers, else ``None``.
        promptable_only: trained for SAM's prompts only (kind ``promptable_sam``): the
            prompt-free class head is untrained. Not an option: it chooses the kind.
    """

    model_type: str
    input_size: int
    num_classes: int
    lora: LoraSettings | None = None
    promptable_only: bool = False

    @property
    def kind(self) -> str:
        """``promptable_sam`` for a prompts-only network, else ``sam_segmenter``."""
        return PROMPTABLE_SAM_KIND if self.promptable_only else SAM_SEGMENTER_KIND

    def build(self) -> SamSegmenter:
        """A randomly initialised network of this architecture (load weights afterwards)."""
        return build_sam(
            self.model_type, self.input_size, None, num_classes=self.num_classes, lora=self.lora
        )

    def description(self) -> NetworkDescription:
        """This network as a checkpoint's network description (kind :attr:`kind`)."""
        options = asdict(self)
        del options["promptable_only"]
        if self.lora is not None:
            options["lora"]["targets"] = list(self.lora.targets)
        return NetworkDescription(self.kind, options)

    def to_json(self) -> dict:
        """``{"kind": "sam_segmenter", "model_type": ..., "input_size": ..., ...}`` (or kind
        ``promptable_sam``)."""
        return self.description().to_json()

    @classmethod
    def from_json(cls, data: dict, source: str = "checkpoint") -> NetworkSpec:
        """Parse :meth:`to_json` output, or a version 1 entry (the same without ``kind``).

        Raises:
            SamsegInputError: another kind, or missing or malformed options (naming
                ``source``).
        """
        kind = data.get(KIND_KEY, SAM_SEGMENTER_KIND) if isinstance(data, dict) else None
        if kind not in (SAM_SEGMENTER_KIND, PROMPTABLE_SAM_KIND):
            raise SamsegInputError(
                f"{source}: expected a {SAM_SEGMENTER_KIND} or {PROMPTABLE_SAM_KIND} network "
                f"description, found kind {kind!r}"
            )
        try:
            lora = data.get("lora")
            return cls(
                model_type=str(data["model_type"]),
                input_size=int(data["input_size"]),
                num_classes=int(data["num_classes"]),
                lora=None
                if lora is None
                else LoraSettings(**{**lora, "targets": tuple(lora["targets"])}),
                promptable_only=kind == PROMPTABLE_SAM_KIND,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SamsegInputError(
                f"{source}: expected a network description with model_type, input_size, "
                f"num_classes and lora, found {data!r} ({error})"
            ) from None
