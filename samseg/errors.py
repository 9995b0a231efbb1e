"""Exceptions samseg raises for bad input.

Every message names the file (or folder) concerned, what was expected and what was found,
so a user can fix the input without reading a traceback. The command-line entry points turn
these into a one-line message and a non-zero exit code.
"""

from __future__ import annotations


class SamsegInputError(ValueError):
    """Raised when a user-supplied file, folder or argument is invalid."""


class SamsegConfigError(RuntimeError):
    """Raised when the environment (roots, plans, checkpoints) is not set up as required."""
