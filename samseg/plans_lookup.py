"""The plans of a preprocessed dataset, found by ``-d`` and ``-p`` as every command takes them."""

from __future__ import annotations

from pathlib import Path

from samseg.dataset import resolve_dataset_name
from samseg.errors import SamsegInputError
from samseg.paths import preprocessed_root
from samseg.plans import Plans


def preprocessed_plans_file(dataset: str, plans_name: str) -> Path:
    """``PREPROCESSED/DatasetXXX_Name/<plans_name>.json`` of the dataset ``dataset`` names,
    checked to exist.

    Args:
        dataset: ``-d``: an id, ``DatasetXXX_Name`` or the bare name.
        plans_name: ``-p``: the plans file's name without ``.json``.

    Raises:
        SamsegInputError: unknown dataset or no such plans (the message lists the plans found
            and says how to make them).
    """
    root = preprocessed_root()
    name = resolve_dataset_name(dataset, [root])
    path = root / name / f"{plans_name}.json"
    if not path.is_file():
        found = sorted(p.stem for p in (root / name).glob("*Plans*.json"))
        raise SamsegInputError(
            f"{path}: expected the plans {plans_name} (found {found or 'none'}); run "
            f"samseg_plan_and_preprocess -d {name} (with -pl for other plans)"
        )
    return path


def load_preprocessed_plans(dataset: str, plans_name: str) -> Plans:
    """The plans of :func:`preprocessed_plans_file` (same arguments and errors)."""
    return Plans.load(preprocessed_plans_file(dataset, plans_name))
