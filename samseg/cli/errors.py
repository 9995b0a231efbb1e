"""Run a command's body so that bad input ends in one clear line and a non-zero exit."""

from __future__ import annotations

import sys
from collections.abc import Callable

from samseg.errors import SamsegConfigError, SamsegInputError

EXIT_BAD_INPUT = 2


def run_command(body: Callable[[], None]) -> None:
    """Call ``body``; on a samseg input or configuration error print it and exit with 2."""
    try:
        body()
    except (SamsegInputError, SamsegConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
