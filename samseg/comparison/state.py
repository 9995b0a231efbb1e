"""The comparison's state file, ``REPORT_DIR/comparison_state.json``, rewritten atomically after
every finished stage, so a comparison killed at any point continues where it stopped.

It holds the request's settings (a rerun with other settings into the same folder is refused)
and one entry per finished stage (``train/TRAINER/fold_F``, ``predict/METHOD/PART``,
``evaluate/METHOD/PART``) with what the stage measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from samseg.errors import SamsegInputError
from samseg.io import read_json, write_json

STATE_FILE = "comparison_state.json"


class ComparisonState:
    """Finished stages of one comparison (see the module docstring)."""

    def __init__(self, path: Path, settings: Mapping[str, Any], stages: dict[str, Any]) -> None:
        self.path = path
        self.settings = dict(settings)
        self.stages = stages

    @classmethod
    def open(cls, folder: Path, settings: Mapping[str, Any]) -> ComparisonState:
        """The state in ``folder`` (a new, empty one when there is none).

        Raises:
            SamsegInputError: ``folder`` holds the state of a comparison of other settings.
        """
        path = folder / STATE_FILE
        if not path.is_file():
            return cls(path, settings, {})
        data = read_json(path)
        if data.get("settings") != _plain(settings):
            raise SamsegInputError(
                f"{path}: expected the state of a comparison with the settings asked for, "
                f"found one of other settings ({data.get('settings')}); choose another -o "
                f"or remove that folder"
            )
        return cls(path, settings, dict(data.get("stages", {})))

    def done(self, key: str) -> Any | None:
        """The record of a finished stage, or ``None``."""
        return self.stages.get(key)

    def finish(self, key: str, record: Any) -> None:
        """Record a finished stage and rewrite the file atomically."""
        self.stages[key] = record
        write_json({"settings": _plain(self.settings), "stages": self.stages}, self.path)


def _plain(settings: Mapping[str, Any]) -> Any:
    """``settings`` as JSON reads them back (tuples become lists)."""
    return json.loads(json.dumps(settings))
