"""PG-SAM tests: one torch thread each (tiny networks run fastest on one)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread_per_test(one_torch_thread: None) -> None:
    """Every test here runs on one torch thread (``one_torch_thread``, tests/conftest.py)."""
