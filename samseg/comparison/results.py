"""What the report shows of each method, gathered from the finished stages.

Per method: the metrics of every case and class (from the evaluation summaries), trainable
parameters (the ``total`` row of the training log's parameter table; 0 for an adaptor),
training time (the epochs' own times recorded in ``checkpoint_final.pth``, summed over folds;
an embedding cache is built in the first epoch and counts in it; and the wall time of the
training commands this comparison ran, which adds model building and the final validation),
prediction seconds per slice (the prediction commands' wall time, model loading included, over
the slices they segmented) and the stages' peak memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from samseg.comparison.plan import ComparisonPlan
from samseg.comparison.runner import evaluation_file, fold_folder
from samseg.comparison.state import ComparisonState
from samseg.io import read_json
from samseg.training.checkpoints import CHECKPOINT_FINAL, load_checkpoint

CaseMetrics = dict[str, dict[str, dict[str, float]]]
"""case identifier -> class key -> metric name -> value."""

_TOTAL_ROW = re.compile(r"^\S+ \S+: total\s+([\d,]+)\s+([\d,]+)", re.MULTILINE)


@dataclass(frozen=True)
class MethodResults:
    """One method's numbers (see the module docstring; ``None`` where not measured).

    Attributes:
        name: the method's report name.
        trainer: the trainer class trained, ``None`` for an adaptor.
        cases: per case, class and metric.
        trainable_parameters: trainable parameter count.
        training_seconds: the epochs' recorded seconds, summed over folds.
        training_command_seconds: wall seconds of the training commands run by this
            comparison (``None`` when every fold was reused).
        prediction_seconds_per_slice: prediction wall seconds per 2D slice.
        peak_rss_mib: largest peak resident memory of its stages, MiB.
        peak_cuda_mib: largest peak CUDA memory of its stages, MiB.
        commands: every command line its stages ran, with their environment additions.
    """

    name: str
    trainer: str | None
    cases: CaseMetrics
    trainable_parameters: int | None
    training_seconds: float
    training_command_seconds: float | None
    prediction_seconds_per_slice: float
    peak_rss_mib: float | None
    peak_cuda_mib: float | None
    commands: list[dict]


def collect_results(plan: ComparisonPlan, state: ComparisonState) -> list[MethodResults]:
    """Every method's results, in the plan's order."""
    folder = plan.request.output_folder
    results = []
    for method in plan.methods:
        stages = []
        training_seconds, trainable = 0.0, 0
        if method.trainer is not None:
            folds = [fold_folder(plan, method.trainer, f) for f in plan.request.folds]
            stages += [state.done(f"train/{method.trainer}/fold_{f}") for f in plan.request.folds]
            training_seconds = sum(_epoch_seconds(f / CHECKPOINT_FINAL) for f in folds)
            trainable = _trainable_parameters(folds[0])
        predictions = [state.done(f"predict/{method.name}/{p.name}") for p in plan.parts]
        cases: CaseMetrics = {}
        for part in plan.parts:
            summary = evaluation_file(folder, method.name, part.name)
            cases.update(_case_metrics(summary, plan.evaluation.file_ending))
        ran = [s for s in stages if "seconds" in s]
        measured = [*ran, *predictions]
        results.append(
            MethodResults(
                name=method.name,
                trainer=method.trainer,
                cases=cases,
                trainable_parameters=trainable,
                training_seconds=training_seconds,
                training_command_seconds=sum(s["seconds"] for s in ran) if ran else None,
                prediction_seconds_per_slice=sum(p["seconds"] for p in predictions)
                / max(1, sum(p["slices"] for p in predictions)),
                peak_rss_mib=_largest(s["peak_rss_mib"] for s in measured),
                peak_cuda_mib=_largest(s["peak_cuda_mib"] for s in measured),
                commands=[
                    {"command": s["command"], "environment": s["environment"]} for s in measured
                ]
                + [{"reused": s["reused"]} for s in stages if "reused" in s],
            )
        )
    return results


def _case_metrics(summary_file: Path, file_ending: str) -> CaseMetrics:
    """Case identifier (the reference file's name without ``file_ending``) -> metrics."""
    return {
        Path(entry["reference_file"]).name.removesuffix(file_ending): entry["metrics"]
        for entry in read_json(summary_file)["metric_per_case"]
    }


def _epoch_seconds(checkpoint: Path) -> float:
    return float(sum(load_checkpoint(checkpoint)["logging"]["epoch_seconds"]))


def _trainable_parameters(fold: Path) -> int | None:
    """The ``total`` trainable count of the fold's newest training log that has one."""
    for log in sorted(fold.glob("training_log_*.txt"), reverse=True):
        rows = _TOTAL_ROW.findall(log.read_text(encoding="utf-8", errors="replace"))
        if rows:
            return int(rows[-1][0].replace(",", ""))
    return None


def _largest(values) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None
