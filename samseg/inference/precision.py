"""Which precision the predictor computes in: fp32, bf16 autocast, or int8 linear layers.

- ``fp32``: full precision (the default).
- ``bf16``: bf16 autocast on the prediction device (CUDA; CPUs with AVX512-BF16 or AMX).
- ``int8``: dynamic int8 quantization (``torch.ao.quantization.quantize_dynamic``) of every
  ``nn.Linear`` of a copy of the network — for a SamSegmenter, of its image encoder only
  (qkv, proj and MLP layers: nearly all of its arithmetic); weights are quantized once,
  activations per call. CPU only (fbgemm / oneDNN kernels, VNNI where present).

The networks handed in are never modified: int8 works on a deep copy (LoRA merged into it
first), fp32 and bf16 only change how calls are made.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

from samseg.errors import SamsegInputError
from samseg.inference.network import SliceNetwork, as_slice_network
from samseg.models import SamSegmenter, has_lora, merge_lora
from samseg.precisions import INFERENCE_PRECISIONS


def prepare_networks(
    networks: Sequence[Any], precision: str, device: torch.device
) -> list[SliceNetwork]:
    """Slice networks on ``device`` computing in ``precision``.

    Modules are moved to ``device`` (in place, as ``Module.to`` does); int8 copies are made
    on the CPU.

    Raises:
        SamsegInputError: an unknown precision, or int8 on a device other than the CPU.
        TypeError: a network that does not follow the slice-network interface.
    """
    if precision not in INFERENCE_PRECISIONS:
        raise SamsegInputError(
            f"precision: expected one of {', '.join(INFERENCE_PRECISIONS)}, found {precision!r}"
        )
    if precision == "int8" and device.type != "cpu":
        raise SamsegInputError(
            f"precision int8: dynamic int8 quantization runs on the CPU only, found device "
            f"{device.type}; use bf16 on a GPU"
        )
    prepared = []
    for network in networks:
        if precision == "int8":
            network = quantized_copy(network)
        if isinstance(network, nn.Module):
            network.to(device)
        prepared.append(as_slice_network(network, "bf16" if precision == "bf16" else "fp32"))
    return prepared


def quantized_copy(network: Any) -> Any:
    """A copy of ``network`` with int8 dynamically quantized linear layers (see module doc).

    For a SamSegmenter, LoRA layers are merged into the copy first and only the image
    encoder is quantized; for any other module, every ``nn.Linear``.
    """
    if not isinstance(network, nn.Module):
        raise SamsegInputError(
            f"precision int8: expected a torch.nn.Module to quantize, found "
            f"{type(network).__name__}"
        )
    network = copy.deepcopy(network).cpu()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        if isinstance(network, SamSegmenter):
            if has_lora(network):
                merge_lora(network)
            network.precision = "fp32"
            quantize_dynamic(network.image_encoder, {nn.Linear}, torch.qint8, inplace=True)
        else:
            quantize_dynamic(network, {nn.Linear}, torch.qint8, inplace=True)
    return network
