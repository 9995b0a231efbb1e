"""The ``samseg_plan_and_preprocess`` workflow: fingerprint, plan, preprocess one dataset.

Each step writes into ``PREPROCESSED/DatasetXXX_Name/`` and reads only what the previous step
wrote, so each can be rerun alone; no file nnU-Net wrote there is modified (samseg's files have
samseg names, see ``samseg.paths``). A rerun reuses what is up to date: the fingerprint while
the raw files are unchanged, the plans unless ``overwrite`` (so hand edits survive), and every
preprocessed case whose raw files and plans are unchanged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from samseg.dataset import RawDataset
from samseg.io import read_json, write_json
from samseg.paths import DATASET_JSON_COPY
from samseg.planning.fingerprint import extract_fingerprint, fingerprint_path
from samseg.planning.registry import planner_class
from samseg.plans import Plans
from samseg.preprocessing import PreprocessingReport, preprocess_dataset


@dataclass(frozen=True)
class PlanAndPreprocessResult:
    """What one run wrote (paths) and did."""

    dataset_name: str
    fingerprint_path: Path
    fingerprint_reused: bool
    plans_path: Path
    plans_reused: bool
    preprocessed_folders: tuple[Path, ...]
    reports: tuple[PreprocessingReport, ...]


def raw_files_digest(dataset: RawDataset) -> str:
    """Hash of dataset.json and every training file's name, size and modification time."""
    digest = hashlib.sha256()
    files = [dataset.folder / "dataset.json"]
    for case in dataset.training_cases:
        files.extend((*case.images, case.label))
    for path in files:
        status = os.stat(path)
        digest.update(f"{path.name}:{status.st_size}:{status.st_mtime_ns};".encode())
    return digest.hexdigest()


def fingerprint_dataset(
    dataset: RawDataset, num_processes: int, overwrite: bool
) -> tuple[dict, bool]:
    """Write (or reuse, when the raw files are unchanged) ``samseg_dataset_fingerprint.json``.

    A fingerprint is reused only when it was made from the same raw files and holds every entry
    the planner reads (a file without ``orientations`` is recomputed).

    Returns the fingerprint and whether an existing one was reused.
    """
    path = fingerprint_path(dataset.preprocessed_folder())
    digest = raw_files_digest(dataset)
    if path.is_file() and not overwrite:
        existing = read_json(path)
        if existing.get("raw_files_digest") == digest and "orientations" in existing:
            return existing, True
    fingerprint = extract_fingerprint(
        dataset.training_cases, dataset.description, num_processes=num_processes
    )
    fingerprint["raw_files_digest"] = digest
    write_json(fingerprint, path)
    return fingerprint, False


def plan_dataset(
    dataset: RawDataset,
    fingerprint: dict,
    planner_name: str,
    overwrite: bool,
    gpu_memory_target_gb: float | None = None,
) -> tuple[Plans, Path, bool]:
    """Write (or keep, unless ``overwrite``) the plans of ``planner_name``.

    Returns the plans, their path and whether existing plans were kept.
    """
    planner_type = planner_class(planner_name)
    path = dataset.preprocessed_folder() / f"{planner_type.plans_name}.json"
    if path.is_file() and not overwrite:
        return Plans.load(path), path, True
    planner = planner_type(dataset.name, dataset.description, fingerprint)
    if gpu_memory_target_gb is not None:
        planner.gpu_memory_target_gb = gpu_memory_target_gb
    plans = planner.plan()
    plans.save(path)
    return plans, path, False


def plan_and_preprocess(
    dataset_query: str | int,
    *,
    planner_name: str = "SliceSAMPlanner",
    configurations: Sequence[str] | None = None,
    num_processes: int = 2,
    overwrite: bool = False,
    preprocess: bool = True,
    gpu_memory_target_gb: float | None = None,
) -> PlanAndPreprocessResult:
    """Fingerprint, plan and preprocess the raw dataset that ``dataset_query`` names.

    Args:
        dataset_query: ``-d``: an id, ``DatasetXXX_Name`` or the bare name.
        planner_name: ``-pl``: a built-in planner or a dotted path to a custom one.
        configurations: ``-c``: configurations to preprocess (default: all in the plans).
            Configurations that share a data identifier are preprocessed once.
        num_processes: ``-np``: worker processes for fingerprinting and preprocessing.
        overwrite: redo the fingerprint, the plans and every case.
        preprocess: ``False`` stops after planning (``--no_pp``).
        gpu_memory_target_gb: memory budget for the batch size estimate.
    """
    dataset = RawDataset.find(dataset_query)
    output = dataset.preprocessed_folder()
    fingerprint, fingerprint_reused = fingerprint_dataset(dataset, num_processes, overwrite)
    write_json(dataset.description.to_json(), output / DATASET_JSON_COPY)
    plans, plans_path, plans_reused = plan_dataset(
        dataset, fingerprint, planner_name, overwrite, gpu_memory_target_gb
    )
    names = list(plans.configurations) if configurations is None else list(configurations)
    identifiers = sorted({plans.configuration(name).data_identifier for name in names})
    folders, reports = [], []
    if preprocess:
        for identifier in identifiers:
            folder = output / identifier
            reports.append(preprocess_dataset(dataset, plans, folder, num_processes, overwrite))
            folders.append(folder)
    return PlanAndPreprocessResult(
        dataset_name=dataset.name,
        fingerprint_path=fingerprint_path(output),
        fingerprint_reused=fingerprint_reused,
        plans_path=plans_path,
        plans_reused=plans_reused,
        preprocessed_folders=tuple(folders),
        reports=tuple(reports),
    )
