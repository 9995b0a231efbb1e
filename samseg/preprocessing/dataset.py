"""Preprocess every training case of a raw dataset into one data folder, in parallel."""

from __future__ import annotations

import os
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from samseg.dataset import CaseFiles, RawDataset
from samseg.errors import SamsegInputError
from samseg.io import reader_writer_by_name
from samseg.plans import Plans
from samseg.preprocessing.case import preprocess_case
from samseg.preprocessing.provenance import case_provenance
from samseg.preprocessing.storage import (
    CasePaths,
    load_properties,
    remove_case,
    remove_partial_files,
    save_case,
    written_identifiers,
)
from samseg.worker_pool import worker_pool


@dataclass(frozen=True)
class PreprocessingReport:
    """What :func:`preprocess_dataset` did.

    Attributes:
        output_folder: the data folder written.
        done: cases preprocessed in this run.
        skipped: cases already up to date.
        removed: stored cases whose raw case no longer exists, deleted.
    """

    output_folder: Path
    done: int
    skipped: int
    removed: int

    def summary(self) -> str:
        """One line for people: ``3 cases preprocessed, 2 up to date (skipped), 1 removed``."""
        parts = [f"{self.done} cases preprocessed", f"{self.skipped} up to date (skipped)"]
        if self.removed:
            parts.append(f"{self.removed} no longer in the dataset (removed)")
        return ", ".join(parts)


def data_identifiers(plans: Plans) -> list[str]:
    """The distinct data folders the plans' configurations read, in first-use order.

    Configurations that differ only in model input size share one folder (``samsegPlans_2d``),
    because resizing to the input happens when slices are loaded; the caller preprocesses each
    identifier once, into ``preprocessed_root/DatasetXXX_Name/<identifier>``.
    """
    return list(dict.fromkeys(c.data_identifier for c in plans.configurations.values()))


def preprocess_dataset(
    dataset: RawDataset,
    plans: Plans,
    output_folder: str | os.PathLike,
    num_processes: int,
    overwrite: bool = False,
) -> PreprocessingReport:
    """Preprocess the training cases of ``dataset`` into ``output_folder``.

    Cases whose properties file records the current raw files (name, size, modification time)
    and plans hash are skipped unless ``overwrite``. Stored cases that are no longer in the
    dataset, and temporary files of interrupted runs, are deleted, so the folder mirrors the
    dataset.

    Args:
        dataset: the raw dataset; its training cases (imagesTr + labelsTr) are preprocessed.
        plans: the dataset's plans; ``plans.image_reader_writer`` reads the files.
        output_folder: the data folder, ``preprocessed_root/DatasetXXX_Name/<data identifier>``
            (see :func:`data_identifiers`).
        num_processes: worker processes; 1 or fewer runs in this process.
        overwrite: redo cases that are up to date.

    Raises:
        SamsegInputError: from the first failing case, with its message (naming the file).
    """
    output_folder = Path(output_folder)
    output_folder.mkdir(parents=True, exist_ok=True)
    remove_partial_files(output_folder)
    cases = dataset.training_cases
    wanted = {case.identifier for case in cases}
    stale = [i for i in written_identifiers(output_folder) if i not in wanted]
    for identifier in stale:
        remove_case(output_folder, identifier)
    todo = [c for c in cases if overwrite or not is_up_to_date(output_folder, c, plans)]
    with tqdm(total=len(todo), desc=f"preprocessing {dataset.name}", unit="case") as progress:
        if num_processes <= 1 or len(todo) <= 1:
            for case in todo:
                _preprocess_and_save(case, plans, output_folder, threads=os.cpu_count() or 1)
                progress.update()
        else:
            _run_in_pool(todo, plans, output_folder, min(num_processes, len(todo)), progress)
    return PreprocessingReport(
        output_folder=output_folder,
        done=len(todo),
        skipped=len(cases) - len(todo),
        removed=len(stale),
    )


def is_up_to_date(folder: Path, case: CaseFiles, plans: Plans) -> bool:
    """Whether ``case`` is stored in ``folder`` from its current raw files and these plans."""
    paths = CasePaths.of(folder, case.identifier)
    if not (paths.properties.is_file() and paths.data.is_file()):
        return False
    if case.label is not None and not paths.label.is_file():
        return False
    try:
        recorded = load_properties(folder, case.identifier).provenance
    except SamsegInputError:
        return False
    return recorded == case_provenance(case.images, case.label, plans)


def _run_in_pool(
    todo: list[CaseFiles], plans: Plans, output_folder: Path, workers: int, progress: tqdm
) -> None:
    """Preprocess ``todo`` in ``workers`` processes (which die with this one); the first
    error cancels the rest and is raised here as the worker raised it."""
    executor = worker_pool(workers)
    try:
        futures = [
            executor.submit(_preprocess_and_save, case, plans, output_folder, 1) for case in todo
        ]
        for future in as_completed(futures):
            future.result()
            progress.update()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _preprocess_and_save(case: CaseFiles, plans: Plans, output_folder: Path, threads: int) -> str:
    """Preprocess one case and store it; return its identifier (runs in a worker)."""
    reader_writer = reader_writer_by_name(plans.image_reader_writer)
    result = preprocess_case(case.images, case.label, plans, reader_writer)
    save_case(
        output_folder,
        case.identifier,
        result.data,
        result.label,
        result.properties,
        threads=threads,
    )
    return case.identifier
