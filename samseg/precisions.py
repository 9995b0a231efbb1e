"""The names of numeric precisions, one vocabulary each (no torch import: ``--help`` shows them).

- :data:`NetworkPrecision`: how a SAM network computes (``samseg.models.precision`` turns a name
  into an autocast context): ``auto`` (bf16 autocast on CUDA, fp32 elsewhere), ``fp32``,
  ``bf16``, ``fp16``.
- :data:`InferencePrecision`: what ``samseg_predict --precision`` accepts
  (``samseg.inference.precision`` prepares the networks): ``fp32``, ``bf16`` (autocast), ``int8``
  (dynamically quantized Linear layers, CPU only).
"""

from typing import Literal, get_args

NetworkPrecision = Literal["auto", "fp32", "bf16", "fp16"]
NETWORK_PRECISIONS: tuple[str, ...] = get_args(NetworkPrecision)

InferencePrecision = Literal["fp32", "bf16", "int8"]
INFERENCE_PRECISIONS: tuple[str, ...] = get_args(InferencePrecision)
