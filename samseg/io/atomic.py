"""Write files so that an interrupted run never leaves a half-written one behind.

Everything samseg writes goes to a hidden temporary name in the destination folder first and
is renamed onto the final name only when complete (``os.replace`` is atomic on one file
system). A crash leaves at most a ``.partial`` file, which later runs ignore and overwrite.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTIAL_MARKER = ".partial."


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    The temporary name ends with the final file name, so libraries that choose a format from
    the file ending (SimpleITK, nibabel) write the right one. On error the temporary file is
    removed and the exception propagates; an existing file at ``path`` is left untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.parent / f".{uuid.uuid4().hex[:12]}{PARTIAL_MARKER}{final.name}"
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(data: Any, path: str | os.PathLike) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; a malformed one is a :class:`SamsegInputError` naming the file."""
    from samseg.errors import SamsegInputError

    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise SamsegInputError(f"{path}: expected a JSON file, found no such file") from None
    except json.JSONDecodeError as error:
        raise SamsegInputError(
            f"{path}: expected valid JSON, found a syntax error at line {error.lineno}, "
            f"column {error.colno}: {error.msg}"
        ) from None
