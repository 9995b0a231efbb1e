"""Private states for the global random generators that batchgenerators draws from.

batchgenerators' transforms use ``np.random`` and Python's ``random`` module directly. Running
them inside :meth:`GlobalRandomScope.active` makes them draw from a state of their own, seeded
by the caller, and leaves the caller's global states exactly as they were: batches are
reproducible from a seed, and a trainer's own random numbers are not disturbed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


class GlobalRandomScope:
    """Own states of ``np.random`` and ``random``, swapped in around a block.

    Args:
        seed: entropy for both states (e.g. a ``SeedSequence``'s generated words).
    """

    def __init__(self, seed: int) -> None:
        self._numpy_state = np.random.RandomState(seed).get_state()
        self._python_state = random.Random(seed).getstate()

    @contextmanager
    def active(self) -> Iterator[None]:
        """Within the block the global generators continue this scope's streams."""
        caller_numpy, caller_python = np.random.get_state(), random.getstate()
        np.random.set_state(self._numpy_state)
        random.setstate(self._python_state)
        try:
            yield
        finally:
            self._numpy_state, self._python_state = np.random.get_state(), random.getstate()
            np.random.set_state(caller_numpy)
            random.setstate(caller_python)
