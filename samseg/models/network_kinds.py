"""The builder registry: network kind -> the function that builds that kind of network.

A checkpoint's network description (``samseg.models.checkpoint_format``) names a kind and the
options of its builder, so the predictor and end-of-training validation rebuild any network
samseg trained without importing the trainer that trained it. A builder takes the options and
the file they come from (for messages) and returns a randomly initialised ``nn.Module``
whose ``load_state_dict`` accepts the checkpoint's weights. A new network kind adds one entry
to :data:`NETWORK_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from torch import nn

from samseg.errors import SamsegInputError
from samseg.models.checkpoint_format import (
    PGSAM_KIND,
    PROMISE_KIND,
    PROMPTABLE_SAM_KIND,
    SAM_SEGMENTER_KIND,
    NetworkDescription,
)
from samseg.models.pgsam.spec import build_pgsam_network
from samseg.models.promise.spec import build_promise_network
from samseg.models.spec import NetworkSpec

NetworkBuilder = Callable[[Mapping[str, Any], str], nn.Module]
"""``builder(options, where) -> network``; bad options raise a SamsegInputError naming
``where``."""


def build_sam_segmenter(options: Mapping[str, Any], where: str) -> nn.Module:
    """A prompt-free multi-class :class:`~samseg.models.SamSegmenter` (``NetworkSpec`` options)."""
    return NetworkSpec.from_json(dict(options), where).build()


def build_promptable_sam(options: Mapping[str, Any], where: str) -> nn.Module:
    """A :class:`~samseg.models.SamSegmenter` trained for prompts only (``NetworkSpec``
    options)."""
    spec = NetworkSpec.from_json({**options, "kind": PROMPTABLE_SAM_KIND}, where)
    return spec.build()


NETWORK_KINDS: Mapping[str, NetworkBuilder] = MappingProxyType(
    {
        SAM_SEGMENTER_KIND: build_sam_segmenter,
        PROMPTABLE_SAM_KIND: build_promptable_sam,
        PGSAM_KIND: build_pgsam_network,
        PROMISE_KIND: build_promise_network,
    }
)
"""Every network kind samseg can rebuild from a checkpoint."""


def build_network(description: NetworkDescription, where: str) -> nn.Module:
    """A randomly initialised network of ``description`` (load its weights afterwards).

    Args:
        description: the checkpoint's network description.
        where: the checkpoint file, for messages.

    Raises:
        SamsegInputError: an unknown kind (the message lists the known ones) or options its
            builder refuses.
    """
    builder = NETWORK_KINDS.get(description.kind)
    if builder is None:
        raise SamsegInputError(
            f"{where}: expected a network kind of {sorted(NETWORK_KINDS)}, found "
            f"{description.kind!r} (written by another samseg version or an extension?)"
        )
    return builder(description.options, where)
