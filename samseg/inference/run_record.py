"""The run record of a prediction folder: how its segmentations were made.

Beside the predictions: ``plans.json``, ``dataset.json`` and ``prediction_settings.json`` (the
predictor's settings: model folder, checkpoints with their size and modification time,
configuration, precision, mirroring, step size, postprocessing, ...). The record is written
when a run's first case is predicted, just before that case's files, so a run that fails
before any case leaves no record claiming segmentations that do not exist.

One record describes every segmentation in the folder. A run whose settings differ from the
record (or that finds segmentations and no record) may only replace all of them: with
``continue_prediction``, or when some segmentations are not of its cases, it is refused, as
it would leave a folder of mixed models that claims one. A replacing run removes the old
record when its first case is predicted and writes its own when every case is done, so a run
killed half-way leaves no record, and continuing it is refused instead of skipping the old
cases. Settings that change only how fast a run is (:data:`SPEED_SETTINGS`) may differ.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from samseg.dataset import DatasetDescription
from samseg.errors import SamsegInputError
from samseg.io import read_json, write_json
from samseg.plans import Plans

SETTINGS_FILE = "prediction_settings.json"
RECORD_FILES = ("plans.json", "dataset.json", SETTINGS_FILE)
SPEED_SETTINGS = frozenset({"device", "batch_size"})
"""Settings a continued run may change: where and in what batches the networks run."""

_SHOWN_CHARACTERS = 120


def checkpoint_versions(paths: Collection[Path]) -> list[str]:
    """``"<bytes> bytes, modified <UTC time>"`` per checkpoint: a retrained fold differs."""
    versions = []
    for path in paths:
        status = path.stat()
        modified = datetime.fromtimestamp(status.st_mtime, tz=UTC)
        versions.append(f"{status.st_size} bytes, modified {modified.isoformat()}")
    return versions


def check_settings_match(
    folder: Path,
    settings: Mapping[str, Any],
    segmentations: Collection[Path],
    own_outputs: Collection[Path],
    continue_prediction: bool,
) -> bool:
    """Refuse a run that would leave segmentations of unknown or other settings in the folder.

    Segmentations already in ``folder`` are of this run's settings when the record says so.
    Otherwise (no record, or other settings) the run may only replace them all: it is refused
    with ``continue_prediction`` (it would skip them) and when some are not among its own
    outputs (they would stay).

    Args:
        folder: the output folder.
        settings: this run's settings (JSON-able).
        segmentations: the segmentation files already in ``folder`` (inputs excluded).
        own_outputs: the segmentation files this run writes.
        continue_prediction: whether complete cases are skipped.

    Returns:
        Whether the run replaces segmentations of unknown or other settings (then its record
        is written when every case is done; see ``samseg.inference.folder_prediction``).

    Raises:
        SamsegInputError: naming the record and the differing settings (recorded and this
            run's values), or the folder and its segmentations without a record.
    """
    if not segmentations:
        return False
    path = folder / SETTINGS_FILE
    differing = _differing_settings(path, settings) if path.is_file() else None
    if differing == []:
        return False
    staying = sorted(set(segmentations) - set(own_outputs))
    if not continue_prediction and not staying:
        return True
    if differing is None:
        raise SamsegInputError(
            f"{folder}: expected {SETTINGS_FILE} recording how its {len(segmentations)} "
            f"segmentations ({_names(segmentations)}) were made, found none; predict into "
            "another folder, or remove them first"
        )
    kept = segmentations if continue_prediction else staying
    reason = "--continue_prediction would keep" if continue_prediction else "this run keeps"
    raise SamsegInputError(
        f"{path}: expected the settings of this run, found {'; '.join(differing)}, and "
        f"{reason} {len(kept)} segmentations made with them in {folder}; predict into another "
        "folder, or remove them first"
    )


def _differing_settings(path: Path, settings: Mapping[str, Any]) -> list[str]:
    """``"key recorded (this run: value)"`` for every recorded setting ``settings`` change."""
    recorded = read_json(path)
    if not isinstance(recorded, dict):
        raise SamsegInputError(
            f"{path}: expected the prediction settings (a JSON object), found "
            f"{type(recorded).__name__}"
        )
    current = json.loads(json.dumps(settings))
    return [
        f"{key} {_shown(recorded.get(key))} (this run: {_shown(current.get(key))})"
        for key in sorted(set(recorded) | set(current))
        if key not in SPEED_SETTINGS and recorded.get(key) != current.get(key)
    ]


def _names(paths: Collection[Path], limit: int = 3) -> str:
    names = sorted(path.name for path in paths)
    return ", ".join(names[:limit]) + (" ..." if len(names) > limit else "")


def write_run_record(
    folder: Path, plans: Plans, description: DatasetDescription, settings: Mapping[str, Any]
) -> None:
    """Write the plans, dataset.json and the prediction settings beside the predictions."""
    plans.save(folder / "plans.json")
    write_json(description.to_json(), folder / "dataset.json")
    write_json(dict(settings), folder / SETTINGS_FILE)


def _shown(value: Any) -> str:
    """``value`` as JSON, shortened for a one-line message."""
    text = json.dumps(value)
    if len(text) <= _SHOWN_CHARACTERS:
        return text
    return text[: _SHOWN_CHARACTERS - 3] + "..."
