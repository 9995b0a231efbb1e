"""``-device`` and ``-num_threads``: where a command computes, declared once for every command."""

from __future__ import annotations

import argparse

from samseg.devices import DEVICES


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``-device auto|cpu|cuda|mps`` (``samseg.devices`` resolves it)."""
    parser.add_argument(
        "-device",
        choices=DEVICES,
        default="auto",
        help="auto: cuda when available, else cpu (default: %(default)s)",
    )


def add_num_threads_argument(parser: argparse.ArgumentParser, note: str = "") -> None:
    """``-num_threads N`` (``samseg.threads.set_torch_threads``); ``note`` extends the help."""
    parser.add_argument(
        "-num_threads",
        type=int,
        default=None,
        metavar="N",
        help="CPU threads for torch (default: one less than the cores, at least 1" + note + ")",
    )
