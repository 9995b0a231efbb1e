"""Device names on the command line (``-device``), and the torch device each one means.

Importing this module imports no torch, so parsers can show :data:`DEVICES` in ``--help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from samseg.errors import SamsegConfigError, SamsegInputError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cuda", "cpu", "mps")


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when available, else the CPU), ``cuda``, ``cpu`` or ``mps``.

    Raises:
        SamsegInputError: an unknown device name.
        SamsegConfigError: CUDA or MPS asked for but not available.
    """
    import torch

    if name not in DEVICES:
        raise SamsegInputError(f"-device: expected one of {', '.join(DEVICES)}, found {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SamsegConfigError("-device cuda: expected a CUDA GPU, found none (use -device cpu)")
    if name == "mps" and not torch.backends.mps.is_available():
        raise SamsegConfigError("-device mps: expected Apple's MPS backend, found none")
    return torch.device(name)
