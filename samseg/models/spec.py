"""What a checkpoint records to rebuild its network: model type, input size, classes, LoRA.

Trainers write ``NetworkSpec.to_json()`` into every checkpoint under ``"network"``; the
predictor reads it back and calls :meth:`NetworkSpec.build`, so prediction never depends on
the command line that trained the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from samseg.errors import SamsegInputError
from samseg.models.builder import build_sam
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
    """

    model_type: str
    input_size: int
    num_classes: int
    lora: LoraSettings | None = None

    def build(self) -> SamSegmenter:
        """A randomly initialised network of this architecture (load weights afterwards)."""
        return build_sam(
            self.model_type, self.input_size, None, num_classes=self.num_classes, lora=self.lora
        )

    def to_json(self) -> dict:
        data = asdict(self)
        if self.lora is not None:
            data["lora"]["targets"] = list(self.lora.targets)
        return data

    @classmethod
    def from_json(cls, data: dict, source: str = "checkpoint") -> NetworkSpec:
        try:
            lora = data.get("lora")
            return cls(
                model_type=str(data["model_type"]),
                input_size=int(data["input_size"]),
                num_classes=int(data["num_classes"]),
                lora=None
                if lora is None
                else LoraSettings(**{**lora, "targets": tuple(lora["targets"])}),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SamsegInputError(
                f"{source}: expected a network description with model_type, input_size, "
                f"num_classes and lora, found {data!r} ({error})"
            ) from None
