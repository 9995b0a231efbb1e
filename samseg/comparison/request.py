"""What ``samseg_compare`` was asked to compare, and the methods that makes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from samseg.comparison.budget import TrainingBudget

ADAPTOR_MODES = {"p2sam": "p2sam", "persam": "persam"}
"""``--adaptors`` name -> the ``--mode`` of samseg's P²SAM adaptor (PerSAM is one of its modes,
see documentation/adaptation.md)."""

DEFAULT_BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True, kw_only=True)
class ComparisonRequest:
    """One comparison.

    Attributes:
        dataset: ``-d``-style dataset query.
        configuration: plans configuration every method runs in.
        trainers: ``-tr``: trainer class names (each trained on every fold).
        adaptors: ``--adaptors``: names of :data:`ADAPTOR_MODES`.
        output_folder: ``-o REPORT_DIR``.
        plans_name: ``-p``.
        folds: ``-f``: folds to train (0-4 or ``"all"``).
        budget: ``--iterations`` / ``--minutes``.
        baseline: the method the paired differences are against (default: the first).
        reference_case: the training case the adaptors take as their one annotated
            reference (default: the first training case of each fold).
        adaptor_prompt_type: ``points`` (the paper) or ``box`` (for box-trained LiteMedSAM).
        sam_checkpoint: ``--sam_checkpoint`` of the trainers and adaptors: a path, ``"none"``
            (random weights, tests) or ``None`` (the installed official weights).
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        disable_tta: predict without mirroring for every trainer.
        bootstrap_samples: resamples of the cases for the confidence intervals.
        overlay_cases: how many cases of most disagreement get overlay pictures.
        seed: seeds the bootstrap.
    """

    dataset: str
    configuration: str
    trainers: tuple[str, ...]
    adaptors: tuple[str, ...] = ()
    output_folder: Path
    plans_name: str = "samsegPlans"
    folds: tuple[int | str, ...] = (0,)
    budget: TrainingBudget = field(default_factory=TrainingBudget)
    baseline: str | None = None
    reference_case: str | None = None
    adaptor_prompt_type: Literal["points", "box"] = "points"
    sam_checkpoint: str | None = None
    device: str = "auto"
    disable_tta: bool = False
    bootstrap_samples: int = DEFAULT_BOOTSTRAP_SAMPLES
    overlay_cases: int = 2
    seed: int = 0

    def settings_json(self) -> dict:
        """Everything that changes the report's numbers (the state file compares it)."""
        return {
            "dataset": self.dataset,
            "configuration": self.configuration,
            "plans_name": self.plans_name,
            "trainers": list(self.trainers),
            "adaptors": list(self.adaptors),
            "folds": list(self.folds),
            "budget": self.budget.to_json(),
            "reference_case": self.reference_case,
            "adaptor_prompt_type": self.adaptor_prompt_type,
            "sam_checkpoint": self.sam_checkpoint,
            "disable_tta": self.disable_tta,
        }


@dataclass(frozen=True)
class Method:
    """One compared method.

    Attributes:
        name: its name in the report (the trainer's class name, or the adaptor's name).
        trainer: the trainer class trained (the budget subclass), ``None`` for an adaptor.
        adaptor_mode: the adaptor's ``--mode``, ``None`` for a trainer.
    """

    name: str
    trainer: str | None = None
    adaptor_mode: str | None = None

    @property
    def is_adaptor(self) -> bool:
        return self.adaptor_mode is not None
