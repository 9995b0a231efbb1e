"""Write files so that an interrupted run never leaves a half-written one behind.

Everything samseg writes goes to a hidden temporary name in the destination folder first and
is renamed onto the final name only when complete (``os.replace`` is atomic on one file
system). A crash leaves at most a ``.partial`` file, which later runs ignore and overwrite.
The temporary name starts with the writing process's id, so that a run cleaning up after a
crash removes only temporaries whose process has ended (:func:`is_stale_partial`), never those
of another run writing into the same folder.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTIAL_MARKER = ".partial."
_OWNER = re.compile(r"\.(\d+)-[0-9a-f]+$")


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    The temporary name ends with the final file name, so libraries that choose a format from
    the file ending (SimpleITK, nibabel) write the right one. On error the temporary file is
    removed and the exception propagates; an existing file at ``path`` is left untouched.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary = final.parent / f".{owner}{PARTIAL_MARKER}{final.name}"
    try:
        yield temporary
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def is_stale_partial(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a temporary of :func:`atomic_output` whose process has ended.

    Temporaries without a process id (older samseg versions) count as stale; those of this
    process or of a live one (also another user's) do not.
    """
    name = Path(path).name
    if PARTIAL_MARKER not in name:
        return False
    owner = _OWNER.match(name.split(PARTIAL_MARKER, 1)[0])
    if owner is None:
        return True
    pid = int(owner.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


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
