"""Choices and defaults of prediction that ``samseg_predict --help`` shows (no heavy imports)."""

from typing import Literal, get_args

InferencePrecision = Literal["fp32", "bf16", "int8"]
INFERENCE_PRECISIONS: tuple[str, ...] = get_args(InferencePrecision)
DEFAULT_CHECKPOINT = "checkpoint_final.pth"
