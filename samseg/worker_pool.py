"""Process pools whose workers end when the process that started them ends.

A ``ProcessPoolExecutor`` worker waits on its task queue forever once its parent is killed
(``kill -9``, an out-of-memory kill), keeping memory and CPU. Workers made here ask the kernel
to send them SIGKILL when their parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); elsewhere a
watchdog thread in each worker polls the parent process id and exits when it changes.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1
WATCHDOG_INTERVAL_S = 0.5


def worker_pool(num_processes: int) -> ProcessPoolExecutor:
    """A pool of ``num_processes`` workers that die with this process.

    Workers are forked on Linux (fast to start, as the pools were before) and spawned
    elsewhere, so each worker's parent is this process.
    """
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(
        max_workers=num_processes,
        mp_context=multiprocessing.get_context(method),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid``, its parent, ends (pool initializer)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCHDOG_INTERVAL_S)
    os._exit(1)
