"""The ``pgsam`` network kind: a SAM backbone (``NetworkSpec``) plus PG-SAM's options.

A checkpoint's ``network`` entry is ``{"kind": "pgsam", "model_type", "input_size",
"num_classes", "lora", "pgsam": {PGSAMOptions}}``; :func:`build_pgsam_network` (the builder
registry's entry) rebuilds the network from it alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from samseg.errors import SamsegInputError
from samseg.models.builder import build_sam
from samseg.models.checkpoint_format import KIND_KEY, PGSAM_KIND, NetworkDescription
from samseg.models.encoders import get_encoder_family
from samseg.models.pgsam.network import PGSAMSegmenter
from samseg.models.pgsam.options import PGSAMOptions
from samseg.models.precision import Precision
from samseg.models.spec import NetworkSpec

OPTIONS_KEY = "pgsam"


@dataclass(frozen=True, kw_only=True)
class PGSAMNetworkSpec(NetworkSpec):
    """A PG-SAM network: the SAM backbone's fields plus :attr:`pgsam`."""

    pgsam: PGSAMOptions

    def __post_init__(self) -> None:
        if self.pgsam.num_classes != self.num_classes:
            raise SamsegInputError(
                f"PG-SAM network: expected {self.num_classes} class names, found "
                f"{list(self.pgsam.class_names)}"
            )

    @property
    def kind(self) -> str:
        """``pgsam``."""
        return PGSAM_KIND

    def build(self) -> PGSAMSegmenter:
        """A randomly initialised PG-SAM network (load its weights afterwards)."""
        return self.build_from(None)

    def build_from(
        self, checkpoint: str | os.PathLike[str] | None, precision: Precision = "auto"
    ) -> PGSAMSegmenter:
        """The network with the SAM backbone's weights from ``checkpoint`` (``None``: random).

        Its SAM mask decoder gets one (unused) class token: PG-SAM's class tokens come from
        the text prior.
        """
        segmenter = build_sam(
            self.model_type,
            self.input_size,
            checkpoint,
            num_classes=1,
            precision=precision,
            lora=self.lora,
        )
        family = get_encoder_family(self.model_type)
        shapes = family.block_features(self.model_type, self.input_size)
        levels = [shapes[index] for index in self.pgsam.level_blocks]
        network = PGSAMSegmenter(segmenter=segmenter, options=self.pgsam, level_features=levels)
        return network.eval()

    def description(self) -> NetworkDescription:
        """``pgsam`` kind, the backbone's options and :attr:`pgsam`'s."""
        backbone = NetworkSpec(
            **{f.name: getattr(self, f.name) for f in fields(NetworkSpec)}
        ).description()
        return NetworkDescription(
            PGSAM_KIND, {**backbone.options, OPTIONS_KEY: self.pgsam.to_json()}
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "checkpoint") -> PGSAMNetworkSpec:
        """Parse :meth:`to_json` output.

        Raises:
            SamsegInputError: another kind or malformed options (naming ``source``).
        """
        if not isinstance(data, Mapping) or data.get(KIND_KEY, PGSAM_KIND) != PGSAM_KIND:
            raise SamsegInputError(f"{source}: expected a {PGSAM_KIND} network, found {data!r}")
        rest = {k: v for k, v in data.items() if k not in (KIND_KEY, OPTIONS_KEY)}
        backbone = NetworkSpec.from_json(rest, source)
        options = PGSAMOptions.from_json(data.get(OPTIONS_KEY), f"{source} {OPTIONS_KEY!r}")
        values = {f.name: getattr(backbone, f.name) for f in fields(NetworkSpec)}
        return cls(**values, pgsam=options)


def build_pgsam_network(options: Mapping[str, Any], where: str) -> PGSAMSegmenter:
    """The builder registry's ``pgsam`` entry: a randomly initialised PG-SAM network."""
    return PGSAMNetworkSpec.from_json({**options, KIND_KEY: PGSAM_KIND}, where).build()
