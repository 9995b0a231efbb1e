"""How many CPU threads torch may use: one policy for training and prediction.

Oversubscribed cores make every parallel torch operation wait for a descheduled thread: on a
busy two-core machine one CT took 125 s to predict with torch's default two threads and 7 s
with one. So samseg leaves one core to everything else (data workers, preprocessing, other
processes) and splits the rest between the processes it starts itself.
"""

from __future__ import annotations

import os


def cpu_threads(world_size: int = 1, num_workers: int = 0) -> int:
    """Intra-op threads for one process working on the CPU: its share of the cores, less one
    core per data worker (at least one core is left for the data pipeline and the rest of the
    machine).

    Args:
        world_size: processes samseg runs side by side on this machine (training ranks).
        num_workers: data-loading worker processes of this process.

    Returns:
        At least 1.
    """
    return max(1, (os.cpu_count() or 1) // world_size - max(1, num_workers))


def set_torch_threads(requested: int | None = None) -> int:
    """Set torch's intra-op threads to ``requested``, or by :func:`cpu_threads` for one
    process without data workers; return the number set."""
    import torch

    threads = cpu_threads() if requested is None else requested
    torch.set_num_threads(threads)
    return threads
