"""Carry out a comparison: train, predict, evaluate every method, stage by stage, resumably.

Stages run in order (every trainer's folds, then every method's prediction and evaluation of
each part), one progress bar across them all. After each finished stage the state file
(``samseg.comparison.state``) is rewritten atomically; a rerun skips finished stages whose
outputs exist. Training reuses any finished run of the same trainer and budget (its
``checkpoint_final.pth``, also one made before this comparison) and continues an interrupted
one with ``samseg_train --c``; an unfinished prediction folder of this comparison is removed
and predicted anew (its time per slice would be wrong otherwise).

Layout of ``REPORT_DIR``: ``trainers/`` (the budget trainers), ``inputs/PART/`` (links to the
cases' image files), ``predictions/METHOD/PART/``, ``evaluation/METHOD/PART.json`` (summary
files), ``logs/`` (each stage's output), the state file, then the report's files.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from samseg.comparison.budget import write_budget_trainers
from samseg.comparison.plan import ComparisonPlan, EvaluationPart, plan_comparison
from samseg.comparison.request import ComparisonRequest, Method
from samseg.comparison.stage import StageExecutor, SubprocessStages
from samseg.comparison.state import ComparisonState
from samseg.evaluation import evaluate_folders
from samseg.paths import model_folder
from samseg.preprocessing.orientation import case_reorientation
from samseg.training.checkpoints import CHECKPOINT_FINAL
from samseg.training.registry import EXTENSION_ENV


def run_comparison(
    request: ComparisonRequest,
    *,
    stages: StageExecutor | None = None,
    show_progress: bool = True,
) -> ComparisonPlan:
    """Run every stage of ``request`` not finished yet; return the checked plan.

    Args:
        request: the comparison.
        stages: how commands run (default: each in a child process, measured).
        show_progress: the progress bar over all stages.

    Raises:
        SamsegInputError, SamsegConfigError: bad input, before any training; a stage that
            failed (naming its log file).
    """
    plan = plan_comparison(request)
    folder = request.output_folder
    folder.mkdir(parents=True, exist_ok=True)
    state = ComparisonState.open(folder, request.settings_json())
    context = _Context(plan, state, stages or SubprocessStages(), _environment(request, folder))
    tasks = _tasks(context)
    with tqdm(total=len(tasks), desc="comparison", unit="stage", disable=not show_progress) as bar:
        for key, is_current, run in tasks:
            bar.set_postfix_str(key)
            if state.done(key) is None or not is_current():
                state.finish(key, run())
            bar.update()
    return plan


class _Context:
    """What every stage needs: the plan, the state, the executor, the extra environment."""

    def __init__(
        self,
        plan: ComparisonPlan,
        state: ComparisonState,
        stages: StageExecutor,
        environment: dict[str, str],
    ) -> None:
        self.plan, self.state, self.stages, self.environment = plan, state, stages, environment
        self.folder = plan.request.output_folder

    def run(self, command: list[str], log_name: str) -> dict:
        record = self.stages(command, self.environment, self.folder / "logs" / f"{log_name}.txt")
        return {**record.to_json(), "environment": self.environment}


Task = tuple[str, Callable[[], bool], Callable[[], dict]]


def _environment(request: ComparisonRequest, folder: Path) -> dict[str, str]:
    """``SAMSEG_extTrainer`` with the budget trainers first (none without a budget)."""
    if not request.budget.is_set:
        return {}
    trainers = folder / "trainers"
    write_budget_trainers(trainers, list(request.trainers), request.budget)
    existing = os.environ.get(EXTENSION_ENV, "")
    return {EXTENSION_ENV: os.pathsep.join(filter(None, [str(trainers), existing]))}


def _tasks(context: _Context) -> list[Task]:
    """Every stage in order (and each part's input links, made here)."""
    plan = context.plan
    tasks: list[Task] = []
    for method in plan.methods:
        if method.trainer is not None:
            for fold in plan.request.folds:
                tasks.append(_train_task(context, method.trainer, fold))
    for part in plan.parts:
        _link_inputs(part, context.folder / "inputs" / part.name)
        slices = functools.cache(functools.partial(_count_slices, plan, part))
        for method in plan.methods:
            tasks.append(_predict_task(context, method, part, slices))
            tasks.append(_evaluate_task(context, method, part))
    return tasks


def fold_folder(plan: ComparisonPlan, trainer: str, fold: int | str) -> Path:
    """The results folder of one trained fold."""
    request = plan.request
    folder = model_folder(
        plan.plans.dataset_name, trainer, plan.plans.plans_name, request.configuration
    )
    return folder / f"fold_{fold}"


def _train_task(context: _Context, trainer: str, fold: int | str) -> Task:
    plan, request = context.plan, context.plan.request
    final = fold_folder(plan, trainer, fold) / CHECKPOINT_FINAL

    def run() -> dict:
        if final.is_file():
            return {"reused": str(final)}
        command = ["samseg_train", plan.plans.dataset_name, request.configuration, str(fold)]
        command += ["-tr", trainer, "-p", plan.plans.plans_name, "--c", "-device", request.device]
        if request.sam_checkpoint is not None:
            command += ["--sam_checkpoint", request.sam_checkpoint]
        return context.run(command, f"train_{trainer}_fold_{fold}")

    return f"train/{trainer}/fold_{fold}", final.is_file, run


def prediction_folder(folder: Path, method: str, part: str) -> Path:
    """``REPORT_DIR/predictions/METHOD/PART``."""
    return folder / "predictions" / method / part


def _predict_task(
    context: _Context, method: Method, part: EvaluationPart, slices: Callable[[], int]
) -> Task:
    """The prediction stage; ``slices()`` counts the part's slices (read once per part)."""
    plan, request = context.plan, context.plan.request
    output = prediction_folder(context.folder, method.name, part.name)
    inputs = context.folder / "inputs" / part.name

    def run() -> dict:
        if output.exists():
            shutil.rmtree(output)
        common = ["-o", str(output), "-d", plan.plans.dataset_name, "-c", request.configuration]
        common += ["-p", plan.plans.plans_name, "-device", request.device]
        if method.trainer is not None:
            command = ["samseg_predict", "-i", str(inputs), *common, "-tr", method.trainer]
            command += ["-f", *map(str, part.folds)]
            command += ["--disable_tta"] if request.disable_tta else []
        else:
            reference = part.reference
            command = ["samseg_adapt", "-ref_image", str(reference.images[0])]
            command += ["-ref_label", str(reference.label), "-i", str(inputs), *common]
            command += ["--sam_checkpoint", *filter(None, [request.sam_checkpoint])]
            command += ["--mode", method.adaptor_mode, "--prompt_type", request.adaptor_prompt_type]
        record = context.run(command, f"predict_{method.name}_{part.name}")
        return {**record, "slices": slices()}

    return f"predict/{method.name}/{part.name}", output.is_dir, run


def evaluation_file(folder: Path, method: str, part: str) -> Path:
    """``REPORT_DIR/evaluation/METHOD/PART.json``, the part's summary file."""
    return folder / "evaluation" / method / f"{part}.json"


def _evaluate_task(context: _Context, method: Method, part: EvaluationPart) -> Task:
    evaluation = context.plan.evaluation
    output = evaluation_file(context.folder, method.name, part.name)

    def run() -> dict:
        evaluate_folders(
            part.label_folder,
            prediction_folder(context.folder, method.name, part.name),
            evaluation.labels,
            evaluation.file_ending,
            output_file=output,
            reader_writer=evaluation.reader_writer,
            cases=sorted(part.images),
        )
        return {"summary": str(output)}

    return f"evaluate/{method.name}/{part.name}", output.is_file, run


def _link_inputs(part: EvaluationPart, folder: Path) -> None:
    """``folder`` with a link to every channel file of the part's cases (and nothing else)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {path.name: path for files in part.images.values() for path in files}
    for existing in folder.iterdir():
        if existing.name not in wanted or existing.resolve() != wanted[existing.name].resolve():
            existing.unlink()
    for name, path in wanted.items():
        link = folder / name
        if not link.is_symlink():
            link.symlink_to(path.resolve())


def _count_slices(plan: ComparisonPlan, part: EvaluationPart) -> int:
    """2D slices the predictor runs over the part's cases (along the plans' slice axis)."""
    reader, total = plan.evaluation.reader_writer, 0
    for files in part.images.values():
        array, geometry = reader.read_volume(files[0])
        shape = case_reorientation(geometry, plan.plans).shape(array.shape)
        total += shape[plan.plans.slice_axis]
    return total
