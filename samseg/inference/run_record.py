"""The run record of a prediction folder: how its segmentations were made.

Beside the predictions: ``plans.json``, ``dataset.json`` and ``prediction_settings.json`` (the
predictor's settings: model folder, checkpoints with their size and modification time,
configuration, precision, mirroring, step size, postprocessing, ...). The record is written
when a run's first case is predicted, just before that case's files, so a run that fails
before any case leaves no record claiming segmentations that do not exist.

One record describes every segmentation in the folder, so a run whose settings differ from
the record is refused while the folder holds segmentations (other than this run's inputs):
continuing or overwriting would leave a folder of mixed models that claims one. Settings that
change only how fast a run is (:data:`SPEED_SETTINGS`) may differ.
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
from samseg.planning.plans import Plans

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
    folder: Path, settings: Mapping[str, Any], segmentations: Collection[Path]
) -> None:
    """Refuse a run whose settings differ from the folder's record while it holds predictions.

    Args:
        folder: the output folder.
        settings: this run's settings (JSON-able).
        segmentations: the segmentation files already in ``folder`` (inputs excluded).

    Raises:
        SamsegInputError: naming the record, the differing settings (recorded and this run's
            values) and how many segmentations the folder holds.
    """
    path = folder / SETTINGS_FILE
    if not segmentations or not path.is_file():
        return
    recorded = read_json(path)
    if not isinstance(recorded, dict):
        raise SamsegInputError(
            f"{path}: expected the prediction settings (a JSON object), found "
            f"{type(recorded).__name__}"
        )
    current = json.loads(json.dumps(settings))
    differing = [
        key
        for key in sorted(set(recorded) | set(current))
        if key not in SPEED_SETTINGS and recorded.get(key) != current.get(key)
    ]
    if not differing:
        return
    changes = "; ".join(
        f"{key} {_shown(recorded.get(key))} (this run: {_shown(current.get(key))})"
        for key in differing
    )
    raise SamsegInputError(
        f"{path}: expected the settings of this run for the {len(segmentations)} segmentations "
        f"in {folder}, found {changes}; predict into another folder, or remove the old "
        "segmentations first"
    )


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
