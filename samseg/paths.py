"""The three root folders, from environment variables, with nnU-Net's names as fallback.

``SAMSEG_raw``, ``SAMSEG_preprocessed`` and ``SAMSEG_results`` win; when one is unset its
nnU-Net counterpart (``nnUNet_raw``, ...) is used, so an existing nnU-Net tree works as is.
Roots are read when asked for, never cached, so tests and callers may change the environment.

samseg shares ``PREPROCESSED/DatasetXXX_Name/`` with nnU-Net without modifying a file nnU-Net
wrote: its own files there carry samseg names (``samseg_dataset.json``,
``samseg_dataset_fingerprint.json``, ``samsegPlans*.json``, ``samsegPlans_2d/``). The one
shared name is ``splits_final.json``: an existing file (nnU-Net's or samseg's) is read as it
is and never rewritten; when none exists samseg writes the folds nnU-Net would write, in its
format, so both tools then train on the same folds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from samseg.errors import SamsegConfigError

_ROOTS = {
    "raw": ("SAMSEG_raw", "nnUNet_raw"),
    "preprocessed": ("SAMSEG_preprocessed", "nnUNet_preprocessed"),
    "results": ("SAMSEG_results", "nnUNet_results"),
}


def _root(kind: str, environ: Mapping[str, str] | None) -> Path:
    environ = os.environ if environ is None else environ
    samseg_name, nnunet_name = _ROOTS[kind]
    value = environ.get(samseg_name) or environ.get(nnunet_name)
    if not value:
        raise SamsegConfigError(
            f"the {kind} data root is not set: expected the environment variable {samseg_name} "
            f"(or nnU-Net's {nnunet_name}) to name a folder, found neither set"
        )
    return Path(value).expanduser()


def raw_root(environ: Mapping[str, str] | None = None) -> Path:
    """Folder holding raw datasets (``DatasetXXX_Name/``)."""
    return _root("raw", environ)


def preprocessed_root(environ: Mapping[str, str] | None = None) -> Path:
    """Folder holding fingerprints, plans and preprocessed cases per dataset."""
    return _root("preprocessed", environ)


def results_root(environ: Mapping[str, str] | None = None) -> Path:
    """Folder holding trained models per dataset."""
    return _root("results", environ)


#: samseg's copy of the raw dataset.json in ``PREPROCESSED/DatasetXXX_Name/``.
DATASET_JSON_COPY = "samseg_dataset.json"


def preprocessed_dataset_json(preprocessed_dataset_folder: Path) -> Path:
    """The dataset.json a stage after planning reads from ``PREPROCESSED/DatasetXXX_Name/``.

    samseg's copy, :data:`DATASET_JSON_COPY`; for a folder samseg preprocessed before its copy
    had that name, the folder's ``dataset.json`` (also what nnU-Net copies there from the raw
    dataset, so either way the dataset's own description).
    """
    copy = preprocessed_dataset_folder / DATASET_JSON_COPY
    legacy = preprocessed_dataset_folder / "dataset.json"
    return legacy if not copy.is_file() and legacy.is_file() else copy


def model_folder(dataset_name: str, trainer_name: str, plans_name: str, configuration: str) -> Path:
    """``RESULTS/DatasetXXX_Name/{trainer}__{plans}__{configuration}``, as nnU-Net names it."""
    return results_root() / dataset_name / f"{trainer_name}__{plans_name}__{configuration}"
