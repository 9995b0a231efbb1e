"""The ``promise`` network kind: a checkpoint's description of a ProMISe network.

Options: ``{"backbone": NetworkSpec options (model type, input size, classes), "promise":
ProMISeSettings}``. The backbone's weights, frozen SAM ones included, are in the checkpoint's
state dict (``sam.*``), so the predictor rebuilds the trained network from the file alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from samseg.errors import SamsegInputError
from samseg.models.checkpoint_format import KIND_KEY, PROMISE_KIND, NetworkDescription
from samseg.models.encoders import get_encoder_family
from samseg.models.lora import LoraSettings
from samseg.models.promise.network import ProMISeNetwork
from samseg.models.promise.settings import ProMISeSettings
from samseg.models.segmenter import SamSegmenter
from samseg.models.spec import NetworkSpec


@dataclass(frozen=True)
class ProMISeSpec:
    """Architecture of a ProMISe network: its SAM backbone and its settings.

    Attributes:
        backbone: the SAM segmenter's architecture (``num_classes`` = Cf + 1).
        settings: the APM / PaE settings.
    """

    backbone: NetworkSpec
    settings: ProMISeSettings

    def __post_init__(self) -> None:
        classes = self.settings.foreground_classes + 1
        if self.backbone.num_classes != classes or self.backbone.lora is not None:
            raise SamsegInputError(
                f"ProMISe network: expected a backbone without LoRA of {classes} classes "
                f"(the settings' {self.settings.foreground_classes} + background), found "
                f"{self.backbone.num_classes} classes, LoRA {self.backbone.lora}"
            )
        family = get_encoder_family(self.backbone.model_type)
        depth = len(family.block_features(self.backbone.model_type, self.backbone.input_size))
        wrong = [b for b in self.settings.blocks if not 0 <= b < depth]
        if wrong:
            raise SamsegInputError(
                f"ProMISe network: expected encoder blocks 0 .. {depth - 1} of "
                f"{self.backbone.model_type}, found {wrong}"
            )

    @property
    def model_type(self) -> str:
        """The backbone's model type."""
        return self.backbone.model_type

    @property
    def input_size(self) -> int:
        """S, input pixels per side."""
        return self.backbone.input_size

    @property
    def num_classes(self) -> int:
        """C, output classes, background included."""
        return self.backbone.num_classes

    @property
    def lora(self) -> LoraSettings | None:
        """Always ``None``: the backbone is frozen."""
        return None

    @property
    def kind(self) -> str:
        """``promise``."""
        return PROMISE_KIND

    def wrap(self, sam: SamSegmenter) -> ProMISeNetwork:
        """``sam`` (built for :attr:`backbone`) with freshly initialised APM and PaE."""
        return ProMISeNetwork(sam, self.settings, self.backbone.model_type)

    def build(self) -> ProMISeNetwork:
        """A randomly initialised network of this architecture (load weights afterwards)."""
        return self.wrap(self.backbone.build())

    def description(self) -> NetworkDescription:
        """This network as a checkpoint's network description."""
        backbone = self.backbone.to_json()
        del backbone[KIND_KEY]
        return NetworkDescription(
            PROMISE_KIND, {"backbone": backbone, "promise": self.settings.to_json()}
        )

    def to_json(self) -> dict[str, Any]:
        """``{"kind": "promise", "backbone": {...}, "promise": {...}}``."""
        return self.description().to_json()

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str) -> ProMISeSpec:
        """Parse the options of a ``promise`` description.

        Raises:
            SamsegInputError: missing or malformed entries (naming ``where``).
        """
        if not isinstance(options, Mapping) or not {"backbone", "promise"} <= set(options):
            raise SamsegInputError(
                f"{where}: expected {PROMISE_KIND} network options with 'backbone' and "
                f"'promise', found {options!r}"
            )
        backbone = NetworkSpec.from_json(dict(options["backbone"]), where)
        try:
            return cls(backbone, ProMISeSettings.from_json(options["promise"], where))
        except SamsegInputError as error:
            message = str(error)
            raise SamsegInputError(
                message if message.startswith(where) else f"{where}: {message}"
            ) from None


def build_promise_network(options: Mapping[str, Any], where: str) -> ProMISeNetwork:
    """The ``promise`` kind's builder: a randomly initialised :class:`ProMISeNetwork`."""
    return ProMISeSpec.from_options(options, where).build()
