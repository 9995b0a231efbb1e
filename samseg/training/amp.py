"""Mixed precision for training: bf16 autocast, or fp16 autocast with a GradScaler.

On CUDA the network computes under bf16 autocast when the GPU supports it (Ampere and newer;
no loss scaling needed), else under fp16 autocast with a :class:`torch.amp.GradScaler`
(nnU-Net's recipe). On the CPU (and MPS) training stays in fp32. Parameters, optimizer state
and the loss are fp32 in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from samseg.models.precision import Precision


@dataclass(frozen=True)
class MixedPrecision:
    """How a training step computes.

    Attributes:
        precision: the SamSegmenter precision (``auto`` is bf16 autocast on CUDA).
        use_grad_scaler: whether losses are scaled (fp16 only).
    """

    precision: Precision
    use_grad_scaler: bool

    @property
    def description(self) -> str:
        """For the training log."""
        if self.use_grad_scaler:
            return "fp16 autocast with gradient scaling"
        return "bf16 autocast" if self.precision in ("auto", "bf16") else "fp32"

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler:
        """A GradScaler for ``device``, enabled only for fp16 (a pass-through otherwise)."""
        return torch.amp.GradScaler(device.type, enabled=self.use_grad_scaler)


def choose_mixed_precision(device: torch.device, enabled: bool = True) -> MixedPrecision:
    """bf16 (or fp16 + GradScaler) autocast on CUDA when ``enabled``; fp32 elsewhere."""
    if not enabled or device.type != "cuda":
        return MixedPrecision("fp32", False)
    if torch.cuda.is_bf16_supported():
        return MixedPrecision("bf16", False)
    return MixedPrecision("fp16", True)
