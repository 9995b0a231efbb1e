"""Evaluate a folder of predictions against a folder of references with the same file names."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from tqdm import tqdm

from samseg.dataset import LabelScheme
from samseg.errors import SamsegInputError
from samseg.evaluation.case import CaseResult, CaseTask, evaluate_case
from samseg.evaluation.labels import EvaluationLabels, LabelOrRegion
from samseg.evaluation.summary import EvaluationSummary, MissingCase
from samseg.io import ImageReaderWriter, reader_writer_for, write_json
from samseg.io.registry import READER_WRITERS

SUMMARY_NAME = "summary.json"


def evaluate_folders(
    reference_folder: str | os.PathLike,
    prediction_folder: str | os.PathLike,
    labels: EvaluationLabels | LabelScheme | Sequence[LabelOrRegion],
    file_ending: str | None = None,
    *,
    output_file: str | os.PathLike | None = None,
    num_processes: int = 1,
    synapse_protocol: bool = False,
    nsd_tolerance_mm: float = 2.0,
    ignore_label: int | None = None,
    reader_writer: ImageReaderWriter | None = None,
    cases: Sequence[str] | None = None,
    overlays_folder: str | os.PathLike | None = None,
    image_folders: Sequence[str | os.PathLike] = (),
    show_progress: bool = False,
    allow_missing: bool = False,
) -> EvaluationSummary:
    """Score every prediction against its reference and write summary.json atomically.

    Args:
        reference_folder: reference label files ``CASE<file_ending>``.
        prediction_folder: predicted label files with the same names.
        labels: the classes to score: an :class:`EvaluationLabels`, a dataset's
            :class:`LabelScheme` (its foreground labels or regions, ignore label and allowed
            values), or label values / regions given by hand.
        file_ending: ending of the label files (``.nii.gz``); ``None`` infers it from the
            reference folder.
        output_file: where summary.json goes (default ``prediction_folder/summary.json``).
        num_processes: worker processes (1 evaluates in this process).
        synapse_protocol: Dice and HD95 (in voxels) as TransUNet/SAMed compute them.
        nsd_tolerance_mm: tolerance of the normalized surface Dice, in mm.
        ignore_label: ignore label, only with labels given by hand.
        reader_writer: reads the label files (default: chosen by the file ending).
        cases: identifiers to evaluate (default: every reference); a training run passes its
            validation cases. Only these cases need a prediction.
        overlays_folder: when given, PNG overlays of every case and class are written there.
        image_folders: folders searched in order for ``CASE_0000<file_ending>``, the image
            under the overlays (black without one).
        show_progress: show a progress bar on stderr.
        allow_missing: evaluate the cases that have a prediction when some do not, and list
            the others in ``missing_cases``; by default a missing prediction is an error
            (the means would cover only the cases predicted).

    Raises:
        SamsegInputError: missing predictions (unless ``allow_missing``), unreadable files,
            label values a dataset does not have, geometry that differs between prediction and
            reference, nothing to evaluate, or an output location that cannot be written; the
            message names the files.
    """
    reference_folder, prediction_folder = Path(reference_folder), Path(prediction_folder)
    evaluation_labels = _evaluation_labels(labels, ignore_label)
    _check_options(num_processes, nsd_tolerance_mm)
    for folder, what in ((reference_folder, "reference"), (prediction_folder, "prediction")):
        if not folder.is_dir():
            raise SamsegInputError(f"{folder}: expected a folder of {what} files, found none")
    ending = file_ending or infer_file_ending(reference_folder)
    output = Path(output_file) if output_file is not None else prediction_folder / SUMMARY_NAME
    if output.suffix != ".json":
        raise SamsegInputError(f"{output}: expected a summary file name ending in .json")
    _check_writable(output.parent, "the summary")
    overlays = Path(overlays_folder) if overlays_folder is not None else None
    if overlays is not None:
        _check_writable(overlays, "overlays")
    references = _label_files(reference_folder, ending)
    predictions = _label_files(prediction_folder, ending)
    identifiers = _requested(cases, references, reference_folder, ending)
    missing = [
        MissingCase(i, references[i], prediction_folder / f"{i}{ending}")
        for i in identifiers
        if i not in predictions
    ]
    if missing and not allow_missing:
        raise SamsegInputError(_missing_message(prediction_folder, missing, len(identifiers)))
    unmatched = [predictions[i] for i in sorted(predictions) if i not in references]
    reader = reader_writer or reader_writer_for(ending)
    tasks = [
        CaseTask(
            identifier=i,
            reference_file=references[i],
            prediction_file=predictions[i],
            labels=evaluation_labels,
            reader_writer=reader,
            nsd_tolerance_mm=nsd_tolerance_mm,
            synapse_protocol=synapse_protocol,
            overlay_folder=overlays,
            image_file=_image_file(i, ending, image_folders) if overlays else None,
        )
        for i in identifiers
        if i in predictions
    ]
    if not tasks:
        raise SamsegInputError(
            f"{prediction_folder}: expected predictions named like the {len(identifiers)} "
            f"references in {reference_folder} (CASE{ending}), found none"
        )
    results = _run(tasks, num_processes, show_progress)
    summary = EvaluationSummary.from_cases(
        results,
        evaluation_labels,
        missing_cases=missing,
        predictions_without_reference=unmatched,
        synapse_protocol=synapse_protocol,
        nsd_tolerance_mm=nsd_tolerance_mm,
        output_file=output,
    )
    try:
        write_json(summary.to_json(), output)
    except OSError as error:
        raise SamsegInputError(
            f"{output}: expected to write the summary, found an error: {error}"
        ) from None
    return summary


def infer_file_ending(folder: Path) -> str:
    """The one supported image file ending (``.nii.gz``, ``.mha``, ...) used in ``folder``."""
    supported = sorted(
        {e for rw in READER_WRITERS.values() for e in rw.supported_file_endings},
        key=len,
        reverse=True,
    )
    found = set()
    for name in os.listdir(folder):
        ending = next((e for e in supported if name.lower().endswith(e)), None)
        if ending is not None and not name.startswith("."):
            found.add(name[-len(ending) :])
    if len(found) != 1:
        raise SamsegInputError(
            f"{folder}: expected label files with one file ending among {supported}, found "
            f"{sorted(found) if found else 'none'}; give the file ending explicitly"
        )
    return found.pop()


def _evaluation_labels(
    labels: EvaluationLabels | LabelScheme | Sequence[LabelOrRegion], ignore_label: int | None
) -> EvaluationLabels:
    if isinstance(labels, EvaluationLabels | LabelScheme) and ignore_label is not None:
        raise ValueError("ignore_label is only taken with labels given as values")
    if isinstance(labels, EvaluationLabels):
        return labels
    if isinstance(labels, LabelScheme):
        return EvaluationLabels.from_scheme(labels)
    try:
        return EvaluationLabels.from_values(labels, ignore_label)
    except ValueError as error:
        raise SamsegInputError(f"labels {list(labels)}: {error}") from None


def _check_options(num_processes: int, nsd_tolerance_mm: float) -> None:
    if num_processes < 1:
        raise SamsegInputError(f"-np: expected at least 1 process, found {num_processes}")
    if not nsd_tolerance_mm > 0:
        raise SamsegInputError(
            f"--nsd_tolerance: expected a positive distance in mm, found {nsd_tolerance_mm}"
        )


def _check_writable(folder: Path, what: str) -> None:
    """Create ``folder`` if needed and make sure a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".samseg-write-check-"):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise SamsegInputError(
            f"{folder}: expected a folder {what} can be written to, found: {reason}"
        ) from None


def _label_files(folder: Path, ending: str) -> dict[str, Path]:
    """Identifier -> file, for every ``CASE<ending>`` file (hidden partial files left out)."""
    return {
        name[: -len(ending)]: folder / name
        for name in sorted(os.listdir(folder))
        if name.endswith(ending) and not name.startswith(".") and len(name) > len(ending)
    }


def _requested(
    cases: Sequence[str] | None, references: dict[str, Path], folder: Path, ending: str
) -> list[str]:
    if cases is None:
        return sorted(references)
    unknown = [c for c in cases if c not in references]
    if unknown:
        raise SamsegInputError(
            f"{folder / (unknown[0] + ending)}: expected the reference of case {unknown[0]}, "
            f"found no such file ({len(unknown)} requested cases have no reference)"
        )
    return sorted(set(cases))


def _missing_message(folder: Path, missing: list[MissingCase], num_requested: int) -> str:
    shown = ", ".join(m.identifier for m in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return (
        f"{folder}: expected a prediction for each of the {num_requested} references, found "
        f"none for {len(missing)} {'case' if len(missing) == 1 else 'cases'}: {shown}{more} "
        f"(e.g. {missing[0].expected_prediction_file}); --allow_missing evaluates the others "
        "and lists these in summary.json"
    )


def _image_file(identifier: str, ending: str, folders: Sequence[str | os.PathLike]) -> Path | None:
    candidates = (Path(folder) / f"{identifier}_0000{ending}" for folder in folders)
    return next((path for path in candidates if path.is_file()), None)


def _run(tasks: list[CaseTask], num_processes: int, show_progress: bool) -> list[CaseResult]:
    """Evaluate the tasks inline (one process) or in a pool of spawned workers."""
    with tqdm(total=len(tasks), desc="evaluating", unit="case", disable=not show_progress) as bar:
        if num_processes == 1 or len(tasks) == 1:
            results = []
            for task in tasks:
                results.append(evaluate_case(task))
                bar.update()
            return results
        context = multiprocessing.get_context("spawn")
        workers = min(num_processes, len(tasks))
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
            futures = [executor.submit(evaluate_case, task) for task in tasks]
            try:
                results = []
                for future in as_completed(futures):
                    results.append(future.result())
                    bar.update()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
            return results
