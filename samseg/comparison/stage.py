"""Run one stage of a comparison (a ``samseg_train``, ``samseg_predict`` or ``samseg_adapt``
command line) and measure it: wall seconds, peak resident memory, peak CUDA memory.

:class:`SubprocessStages` (what ``samseg_compare`` uses) runs each command in a child process,
``python -m samseg.comparison.stage RECORD -- COMMAND ARGS...``, so its peak memory is its own;
the child calls the command's ``main`` and writes the record. :class:`InProcessStages` calls
``main`` in the calling process (no interpreter start-up; peak memory is not measured there,
as this process's peak covers every earlier stage): for tests and notebooks.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from samseg.errors import SamsegInputError
from samseg.io import write_json

COMMAND_MODULES = {
    "samseg_train": "samseg.cli.train",
    "samseg_predict": "samseg.cli.predict",
    "samseg_adapt": "samseg.cli.adapt",
}
"""The commands a comparison runs, by console script name -> module with ``main(argv)``."""

_LOG_LINES = 15

WARM_IMPORTS = ("torch", "samseg.training.run", "samseg.inference", "samseg.adaptation.run")
"""Imported by the child before its clock starts, so that a stage's seconds are its work, not
the imports every command pays once."""


@dataclass(frozen=True)
class StageRecord:
    """What one stage cost.

    Attributes:
        command: the console command line run (its environment additions are recorded apart).
        seconds: wall time of the command's ``main``, seconds (interpreter start-up and the
            imports of :data:`WARM_IMPORTS` excluded).
        peak_rss_mib: peak resident memory of the child process, MiB; ``None`` in process.
        peak_cuda_mib: ``torch.cuda.max_memory_allocated`` at the end, MiB; ``None`` when
            CUDA was not used (or in process).
    """

    command: tuple[str, ...]
    seconds: float
    peak_rss_mib: float | None
    peak_cuda_mib: float | None

    def to_json(self) -> dict:
        return {**asdict(self), "command": list(self.command)}

    @classmethod
    def from_json(cls, data: Mapping) -> StageRecord:
        return cls(
            command=tuple(data["command"]),
            seconds=float(data["seconds"]),
            peak_rss_mib=data["peak_rss_mib"],
            peak_cuda_mib=data["peak_cuda_mib"],
        )


class StageExecutor(Protocol):
    """Runs one command with extra environment variables; its output goes to ``log_file``."""

    def __call__(
        self, command: Sequence[str], environment: Mapping[str, str], log_file: Path
    ) -> StageRecord: ...


class SubprocessStages:
    """Each stage in a child process of this interpreter (see the module docstring)."""

    def __call__(
        self, command: Sequence[str], environment: Mapping[str, str], log_file: Path
    ) -> StageRecord:
        _check_command(command)
        record_file = log_file.with_suffix(".record.json")
        record_file.unlink(missing_ok=True)
        log_file.parent.mkdir(parents=True, exist_ok=True)
        child = [sys.executable, "-m", "samseg.comparison.stage", str(record_file), "--"]
        with log_file.open("w", encoding="utf-8") as log:
            done = subprocess.run(
                [*child, *command],
                env={**os.environ, **environment},
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0 or not record_file.is_file():
            raise SamsegInputError(
                f"{log_file}: expected {command[0]} to finish, found exit status "
                f"{done.returncode}; its last lines:\n{_tail(log_file)}"
            )
        return StageRecord.from_json(json.loads(record_file.read_text(encoding="utf-8")))


class InProcessStages:
    """Each stage in this process, the environment additions set for its duration."""

    def __call__(
        self, command: Sequence[str], environment: Mapping[str, str], log_file: Path
    ) -> StageRecord:
        _check_command(command)
        with _environment(environment):
            try:
                seconds = _call_main(command)
            except SystemExit as stop:
                raise SamsegInputError(
                    f"{command[0]}: expected it to finish, found exit status {stop.code} (its "
                    f"error is printed above)"
                ) from None
        return StageRecord(tuple(command), seconds, None, None)


def _check_command(command: Sequence[str]) -> None:
    if not command or command[0] not in COMMAND_MODULES:
        raise ValueError(f"expected a command of {sorted(COMMAND_MODULES)}, found {command!r}")


def _call_main(command: Sequence[str]) -> float:
    """Run the command's ``main``; its wall seconds. A non-zero exit propagates."""
    main = importlib.import_module(COMMAND_MODULES[command[0]]).main
    start = time.perf_counter()
    try:
        main(list(command[1:]))
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
    return time.perf_counter() - start


@contextmanager
def _environment(additions: Mapping[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in additions}
    os.environ.update(additions)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _tail(log_file: Path) -> str:
    lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-_LOG_LINES:])


def _child(argv: Sequence[str]) -> None:
    """``RECORD -- COMMAND ARGS...``: run the command, then write its :class:`StageRecord`."""
    record_file, separator, *command = argv
    if separator != "--":
        raise SystemExit("usage: python -m samseg.comparison.stage RECORD -- COMMAND ARGS...")
    _check_command(command)
    for module in WARM_IMPORTS:
        importlib.import_module(module)
    seconds = _call_main(command)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch = sys.modules.get("torch")  # imported by the command, if it needed it
    cuda = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
    record = StageRecord(
        tuple(command),
        seconds,
        rss_kib / 1024,
        torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    )
    write_json(record.to_json(), Path(record_file))


if __name__ == "__main__":
    _child(sys.argv[1:])
