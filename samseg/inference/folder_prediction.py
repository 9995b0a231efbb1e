"""Predict cases into an output folder safely: what :meth:`SlicePredictor.predict_to_files` does.

Before anything is written: the inputs (with each case's prompt label or annotated
reference, when given: ``samseg.inference.case_references``) must exist, no output may be an
input file, and a folder holding segmentations must have been made with this run's settings
(``samseg.inference.run_record``). Then temporaries left by ended processes are removed, the
cases are predicted one by one (complete ones skipped with ``continue_prediction``), the run
record is written when the first case is predicted (by a run replacing segmentations of other
settings: the old record removed then, the new one written at the end), and each case's files
are written atomically (``samseg.inference.output_files``). A run that created the folder and
fails before its first case removes the folder again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from samseg.errors import SamsegInputError
from samseg.inference import output_files, run_record
from samseg.inference.case_references import (
    ReferenceFiles,
    ReferenceLoader,
    check_references,
    reference_inputs,
)

if TYPE_CHECKING:
    import os

    from samseg.inference.slice_predictor import SlicePredictor
    from samseg.preprocessing import PreprocessedCase


@dataclass(frozen=True)
class PredictionRun:
    """What :meth:`SlicePredictor.predict_to_files` did; iterates over the segmentations.

    Attributes:
        segmentations: the segmentation file of every case of this part, sorted.
        predicted: identifiers of the cases predicted by this run.
        skipped: identifiers of the cases skipped as complete (``continue_prediction``).
    """

    segmentations: tuple[Path, ...]
    predicted: tuple[str, ...]
    skipped: tuple[str, ...]

    def __iter__(self) -> Iterator[Path]:
        return iter(self.segmentations)

    def __len__(self) -> int:
        return len(self.segmentations)

    def __getitem__(self, index: int) -> Path:
        return self.segmentations[index]


def predict_to_folder(
    predictor: SlicePredictor,
    cases: Mapping[str, Sequence[str | os.PathLike]],
    folder: Path,
    *,
    save_probabilities: bool,
    continue_prediction: bool,
    num_parts: int,
    part_id: int,
    prompt_labels: Mapping[str, str | os.PathLike] | None = None,
    references: Mapping[str, ReferenceFiles] | None = None,
) -> PredictionRun:
    """See :meth:`SlicePredictor.predict_to_files` (same arguments, ``folder`` a Path)."""
    all_cases = {identifier: [Path(p) for p in files] for identifier, files in cases.items()}
    identifiers = output_files.select_part(list(all_cases), num_parts, part_id)
    selected = {identifier: all_cases[identifier] for identifier in identifiers}
    output_files.check_inputs_exist(selected)
    labels = _prompt_labels(prompt_labels, identifiers)
    case_references = check_references(
        references, identifiers, predictor.description.num_channel_files
    )
    ending = predictor.description.file_ending
    planned = output_files.planned_outputs(folder, identifiers, ending, save_probabilities)
    record = [folder / name for name in run_record.RECORD_FILES]
    inputs = {
        **all_cases,
        **{f"{i}/prompt_label": [p] for i, p in (labels or {}).items()},
        **reference_inputs(case_references),
    }
    output_files.check_no_input_overwritten([*planned, *record], inputs)
    settings = predictor.settings
    replacing = folder.is_dir() and run_record.check_settings_match(
        folder,
        settings,
        output_files.existing_segmentations(folder, ending, all_cases),
        [output_files.output_file(folder, identifier, ending) for identifier in identifiers],
        continue_prediction,
    )
    created = output_files.prepare_output_folder(folder)
    output_files.remove_partial_files(folder, identifiers, ending)
    predicted: list[str] = []
    skipped: list[str] = []
    load_reference = ReferenceLoader(predictor.plans, predictor.reader_for)
    try:
        for index, (identifier, paths) in enumerate(selected.items(), start=1):
            if continue_prediction and output_files.is_complete(
                folder, identifier, ending, save_probabilities
            ):
                skipped.append(identifier)
                continue
            name = f"{identifier} ({index}/{len(selected)})"
            record = "remove" if replacing else "write"
            _predict_case(
                predictor,
                identifier,
                paths,
                folder,
                settings,
                save_probabilities,
                record if not predicted else None,
                name,
                None if labels is None else labels[identifier],
                None if case_references is None else load_reference(case_references[identifier]),
            )
            predicted.append(identifier)
        if replacing and predicted:
            run_record.write_run_record(folder, predictor.plans, predictor.description, settings)
    except BaseException:
        if created and not predicted:
            _remove_empty_run(folder, ending, all_cases)
        raise
    segmentations = tuple(output_files.output_file(folder, i, ending) for i in identifiers)
    return PredictionRun(segmentations, tuple(predicted), tuple(skipped))


def _predict_case(
    predictor: SlicePredictor,
    identifier: str,
    paths: Sequence[Path],
    folder: Path,
    settings: Mapping[str, Any],
    save_probabilities: bool,
    record: str | None,
    name: str,
    prompt_label: Path | None,
    reference: PreprocessedCase | None,
) -> None:
    """Predict one case (with its prompt label, its preprocessed reference) and write its
    files; ``record`` ``"write"`` or ``"remove"``: first write or remove the run's settings
    record (the first case of a run)."""
    prompting = {} if prompt_label is None else {"prompt_label": prompt_label}
    result = predictor.predict_case(
        paths,
        return_probabilities=save_probabilities,
        name=name,
        identifier=identifier,
        reference=reference,
        **prompting,
    )
    if record == "write":
        run_record.write_run_record(folder, predictor.plans, predictor.description, settings)
    elif record == "remove":
        (folder / run_record.SETTINGS_FILE).unlink(missing_ok=True)
    target = output_files.output_file(folder, identifier, predictor.description.file_ending)
    with output_files.lost_temporary_is_an_error(target):
        if save_probabilities:
            output_files.write_probabilities(
                folder,
                identifier,
                result.probabilities,
                result.properties,
                predictor.plans.label_handling.class_names,
            )
        predictor.description.image_reader_writer().write_segmentation(
            result.segmentation, target, result.geometry
        )


def _prompt_labels(
    prompt_labels: Mapping[str, str | os.PathLike] | None, identifiers: Sequence[str]
) -> dict[str, Path] | None:
    """The prompt label of each case to predict, checked to exist; ``None`` without labels.

    Raises:
        SamsegInputError: naming the first case without a prompt label, or its missing file.
    """
    if prompt_labels is None:
        return None
    for identifier in identifiers:
        if identifier not in prompt_labels:
            raise SamsegInputError(
                f"case {identifier}: expected a prompt label for every case, found none"
            )
        path = Path(prompt_labels[identifier])
        if not path.is_file():
            raise SamsegInputError(
                f"{path}: expected the prompt label of case {identifier}, found no such file"
            )
    return {identifier: Path(prompt_labels[identifier]) for identifier in identifiers}


def _remove_empty_run(folder: Path, file_ending: str, cases: Mapping[str, Sequence[Path]]) -> None:
    """Undo a run that created ``folder`` and failed before its first case: remove the run
    record (when no segmentation is there) and the folder (when then empty)."""
    if output_files.existing_segmentations(folder, file_ending, cases):
        return
    for name in run_record.RECORD_FILES:
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.rmdir()
