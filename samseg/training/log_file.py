"""The training log: ``training_log_<timestamp>.txt`` in the fold folder, echoed to the console.

Every run (a resumed one too) starts a new file, as nnU-Net does. In distributed training only
rank 0 writes; the other ranks get a disabled log.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

WARNING_RULE = "#" * 79


class TrainingLog:
    """Appends timestamped lines to a log file and prints them."""

    def __init__(self, folder: Path | None, *, echo: bool = True) -> None:
        """
        Args:
            folder: the fold folder; ``None`` disables the log (ranks other than 0).
            echo: also print each message to stdout.
        """
        self.echo = echo and folder is not None
        self.path: Path | None = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now().strftime("%Y_%m_%d_%H_%M_%S")
            self.path = folder / f"training_log_{stamp}.txt"
            suffix = 1
            while self.path.exists():
                self.path = folder / f"training_log_{stamp}_{suffix}.txt"
                suffix += 1
            self.path.touch()

    def log(self, message: str) -> None:
        """Write ``message`` (possibly several lines), each line prefixed with the time."""
        if self.path is None:
            return
        stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        with self.path.open("a", encoding="utf-8") as file:
            for line in message.splitlines() or [""]:
                file.write(f"{stamp}: {line}\n")
        if self.echo:
            tqdm.write(message, file=sys.stdout)

    def warning(self, message: str) -> None:
        """A framed WARNING block, in the log and on stderr (also when echo is off)."""
        if self.path is None:
            return
        block = f"{WARNING_RULE}\nWARNING: {message}\n{WARNING_RULE}"
        with self.path.open("a", encoding="utf-8") as file:
            file.write(block + "\n")
        tqdm.write(block, file=sys.stderr)
