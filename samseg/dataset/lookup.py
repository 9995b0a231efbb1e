"""Resolve ``-d`` (an id, ``DatasetXXX_Name`` or a bare name) to a dataset folder name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from samseg.errors import SamsegInputError

DATASET_FOLDER = re.compile(r"^Dataset(\d{3})_(.+)$")


def dataset_folder_name(dataset_id: int, name: str) -> str:
    """``DatasetXXX_Name`` for an id and a name."""
    if not 0 <= dataset_id <= 999:
        raise SamsegInputError(f"dataset id: expected 0..999, found {dataset_id}")
    return f"Dataset{dataset_id:03d}_{name}"


def existing_datasets(roots: Iterable[Path]) -> list[str]:
    """Sorted, de-duplicated ``DatasetXXX_Name`` folder names found in ``roots``."""
    found: set[str] = set()
    for root in roots:
        if root.is_dir():
            found.update(
                p.name for p in root.iterdir() if p.is_dir() and DATASET_FOLDER.match(p.name)
            )
    return sorted(found)


def resolve_dataset_name(query: str | int, roots: Iterable[Path]) -> str:
    """The one ``DatasetXXX_Name`` in ``roots`` that ``query`` names.

    ``query`` may be an integer id (``2``, ``"002"``), a full folder name, or the bare name
    (``"synapse"``), matched case-insensitively. No match or several matches raise an error
    listing the datasets that exist.
    """
    roots = list(roots)
    available = existing_datasets(roots)
    text = str(query).strip()
    if text.isdigit():
        matches = [n for n in available if int(DATASET_FOLDER.match(n).group(1)) == int(text)]
    else:
        lowered = text.lower()
        matches = [
            n
            for n in available
            if n.lower() == lowered or DATASET_FOLDER.match(n).group(2).lower() == lowered
        ]
    if len(matches) == 1:
        return matches[0]
    where = ", ".join(str(r) for r in roots)
    listing = ", ".join(available) if available else "none"
    if not matches:
        raise SamsegInputError(
            f"-d {text}: expected a dataset id, DatasetXXX_Name or name found in {where}, "
            f"found no match; datasets that exist: {listing}"
        )
    raise SamsegInputError(
        f"-d {text}: expected one dataset, found several that match: {', '.join(matches)}"
    )
