"""How a click evaluation prompts and measures: the settings recorded beside its results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from samseg.inference.slice_predictor import CPU_PIXELS_PER_BATCH
from samseg.plans import SliceConfiguration
from samseg.prompting import PromptingSettings

DEFAULT_CLICKS = 10
"""Corrective clicks per (view, class) when none are asked for."""


@dataclass(frozen=True)
class ClickEvaluationSettings:
    """What a click evaluation does per case.

    Attributes:
        clicks: N, the corrective clicks per network-input view and class (``clicks:N``);
            NoC is capped at N.
        prompting: how prompts are fed to SAM (mask prompt between clicks, multimask first
            point).
        step_size: sliding-window step as a fraction of the input size; ``None``: the
            configuration's ``sliding_window_step``.
        batch_size: network-input views per encoder call (at least 1); ``None``:
            :func:`automatic_batch_size`.
    """

    clicks: int = DEFAULT_CLICKS
    prompting: PromptingSettings = field(default_factory=PromptingSettings)
    step_size: float | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.clicks < 1:
            raise ValueError(f"clicks: expected N >= 1, found {self.clicks}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, found {self.batch_size}")
        if self.step_size is not None and not 0 < self.step_size <= 1:
            raise ValueError(f"step_size: expected 0 < step <= 1, found {self.step_size}")

    def to_json(self) -> dict[str, Any]:
        """The settings that change results (the batch size does not), JSON-able."""
        return {
            "clicks": self.clicks,
            "prompting": asdict(self.prompting),
            "step_size": self.step_size,
        }


def automatic_batch_size(configuration: SliceConfiguration, device: torch.device) -> int:
    """Views per encoder call: the configuration's batch size on a GPU, at most (512 / S)^2
    (at least 1) on the CPU, as the slice predictor chooses."""
    if device.type != "cpu":
        return configuration.batch_size
    cpu_limit = CPU_PIXELS_PER_BATCH // configuration.input_size**2
    return max(1, min(configuration.batch_size, cpu_limit))
