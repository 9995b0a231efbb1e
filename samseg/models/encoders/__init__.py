"""Image-encoder families and the one list of model types samseg builds.

``MODEL_TYPES`` is the list the planner, the command-line help and the documentation read;
:func:`get_encoder_family` answers every question about a model type's encoder (see
:class:`~samseg.models.encoders.family.EncoderFamily`).
"""

from __future__ import annotations

from types import MappingProxyType

from samseg.errors import SamsegInputError
from samseg.models.encoders.family import (
    BlockFeature,
    EncoderFamily,
    MemoryFigures,
    PixelNormalisation,
)
from samseg.models.encoders.tinyvit_family import TinyViTFamily
from samseg.models.encoders.vit import ViTFamily

ENCODER_FAMILIES: tuple[EncoderFamily, ...] = (ViTFamily(), TinyViTFamily())
"""Every encoder family, in the order model types are listed."""

FAMILY_OF_MODEL_TYPE: MappingProxyType[str, EncoderFamily] = MappingProxyType(
    {model_type: family for family in ENCODER_FAMILIES for model_type in family.model_types}
)
"""Model type -> its encoder family (read-only)."""

MODEL_TYPES: tuple[str, ...] = tuple(FAMILY_OF_MODEL_TYPE)
"""Every model type ``build_sam`` accepts: vit_b, vit_l, vit_h, vit_small, vit_tiny,
litemedsam."""


def get_encoder_family(model_type: str) -> EncoderFamily:
    """The encoder family of ``model_type``.

    Raises:
        SamsegInputError: unknown model type; the message lists the known ones.
    """
    try:
        return FAMILY_OF_MODEL_TYPE[model_type]
    except KeyError:
        known = ", ".join(sorted(MODEL_TYPES))
        raise SamsegInputError(
            f"Unknown SAM model type {model_type!r}; expected one of {known}."
        ) from None


__all__ = [
    "ENCODER_FAMILIES",
    "FAMILY_OF_MODEL_TYPE",
    "MODEL_TYPES",
    "BlockFeature",
    "EncoderFamily",
    "MemoryFigures",
    "PixelNormalisation",
    "get_encoder_family",
]
