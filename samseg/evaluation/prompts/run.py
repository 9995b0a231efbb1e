"""Click evaluation of a folder of cases: per case preprocess, prompt, count; then the
summary, the table and the plot.

Output folder::

    prompt_summary.json   per case and class, and the means (see ``summary``)
    clicks.png            Dice against clicks per class (see ``plot``)
    cases/CASE.json       one case's counts and the run's settings, written when the case is
                          done (atomically); a rerun into the same folder skips the cases
                          whose file exists, and refuses a folder whose cases were made with
                          other settings
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from samseg.errors import SamsegInputError
from samseg.evaluation.labels import EvaluationLabels
from samseg.evaluation.prompts.case import evaluate_case_prompts
from samseg.evaluation.prompts.plot import plot_click_curves
from samseg.evaluation.prompts.settings import ClickEvaluationSettings, automatic_batch_size
from samseg.evaluation.prompts.summary import PromptCaseResult, PromptSummary
from samseg.inference.network import evaluation_mode
from samseg.inference.prompt_labels import preprocess_with_prompt_label, prompt_label_files
from samseg.inference.prompted_prediction import PromptableModel
from samseg.io import read_json, write_json

SUMMARY_FILE = "prompt_summary.json"
PLOT_FILE = "clicks.png"
CASES_FOLDER = "cases"


def evaluate_prompts(
    model: PromptableModel,
    cases: Mapping[str, Sequence[str | os.PathLike]],
    label_folder: str | os.PathLike,
    output_folder: str | os.PathLike,
    settings: ClickEvaluationSettings | None = None,
    *,
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> PromptSummary:
    """Evaluate box, 1-point and corrective-click prompting on every case.

    Args:
        model: one promptable network (one fold) with its plans, configuration and
            dataset.json (``samseg.inference.load_promptable_model_folder`` or
            ``load_sam_for_prompts``).
        cases: identifier -> channel files (``samseg.inference.find_cases``).
        label_folder: the reference labels ``CASE<file_ending>`` (on the images' grids).
        output_folder: where the results go (created if missing).
        settings: clicks, prompting, window step, views per encoder call; ``None``: the
            defaults.
        device: where the network runs.
        show_progress: a progress bar over the cases, and one over each case's slices.

    Returns:
        The summary; ``prompt_summary.json`` and ``clicks.png`` are written.

    Raises:
        SamsegInputError: not exactly one network, no case, a case without a label file, a
            label on another grid than its image (naming the file), or an output folder
            holding case results made with other settings.
    """
    if len(model.networks) != 1:
        raise SamsegInputError(
            "model: expected one network to prompt (one fold of a model folder), found "
            f"{len(model.networks)}"
        )
    if not cases:
        raise SamsegInputError("cases: expected at least one case to evaluate, found none")
    output = Path(output_folder)
    description = model.description
    labels = EvaluationLabels.from_scheme(description.labels)
    label_files = prompt_label_files(label_folder, list(cases), description.file_ending)
    settings = settings or ClickEvaluationSettings()
    record = {
        "network": model.source,
        "configuration": model.configuration,
        "plans": model.plans.plans_name,
        **settings.to_json(),
    }
    configuration = model.plans.configuration(model.configuration)
    device = torch.device(device)
    if settings.batch_size is None:
        settings = replace(settings, batch_size=automatic_batch_size(configuration, device))
    reader = description.image_reader_writer()
    network = model.networks[0].to(device)
    results = []
    progress = tqdm(cases.items(), desc="click evaluation", unit="case", disable=not show_progress)
    with evaluation_mode([network]):
        for identifier, image_files in progress:
            case_file = output / CASES_FOLDER / f"{identifier}.json"
            done = _finished_case(case_file, record)
            if done is not None:
                results.append(done)
                continue
            case = preprocess_with_prompt_label(
                [Path(p) for p in image_files], label_files[identifier], model.plans, reader
            )
            counts = evaluate_case_prompts(
                network,
                case.data,
                case.label[0],
                configuration,
                labels,
                settings,
                device,
                show_progress=show_progress,
                name=identifier,
            )
            files = tuple(str(p) for p in image_files)
            result = PromptCaseResult(identifier, files, str(label_files[identifier]), counts)
            write_json({"settings": record, **result.to_json()}, case_file)
            results.append(result)
    summary = PromptSummary.from_cases(results, labels, settings.clicks, record)
    write_json(summary.to_json(), output / SUMMARY_FILE)
    plot_click_curves(summary, output / PLOT_FILE)
    return PromptSummary(**{**summary.__dict__, "output_file": output / SUMMARY_FILE})


def _finished_case(path: Path, record: dict[str, Any]) -> PromptCaseResult | None:
    """The stored result of a case evaluated with ``record``'s settings, else ``None``.

    Raises:
        SamsegInputError: the file was made with other settings.
    """
    if not path.is_file():
        return None
    stored = read_json(path)
    if stored.get("settings") != record:
        raise SamsegInputError(
            f"{path}: expected a case result made with the settings of this run {record}, "
            f"found {stored.get('settings')}; choose another output folder or remove "
            f"{path.parent}"
        )
    return PromptCaseResult.from_json(stored)
