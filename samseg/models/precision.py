"""Which floating-point precision a SAM network computes in.

- ``auto``: bf16 autocast on CUDA, fp32 elsewhere (the default).
- ``fp32``: always fp32.
- ``bf16``: bf16 autocast on every device, the CPU included (recent x86 CPUs with AMX or
  AVX512-BF16 run it faster than fp32; others mainly save memory).
- ``fp16``: fp16 autocast on every device, for GPUs without bf16 (train with a GradScaler).

Autocast only changes how matrix products and convolutions compute; parameters stay fp32,
and :class:`~samseg.models.segmenter.SamSegmenter` returns fp32 logits in every mode.
"""

from __future__ import annotations

import torch

from samseg.precisions import NETWORK_PRECISIONS
from samseg.precisions import NetworkPrecision as Precision


def check_precision(precision: str) -> Precision:
    """Return ``precision`` if it is one of ``auto``, ``fp32``, ``bf16``, ``fp16``.

    Raises:
        ValueError: any other value.
    """
    if precision not in NETWORK_PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(NETWORK_PRECISIONS)}, found {precision!r}."
        )
    return precision  # type: ignore[return-value]


def autocast_for(device: torch.device, precision: Precision) -> torch.autocast:
    """An autocast context for computing on ``device`` in ``precision``."""
    enabled = precision in ("bf16", "fp16") or (precision == "auto" and device.type == "cuda")
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype, enabled=enabled)
