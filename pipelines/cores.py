"""How many cores this process may run on: what its pools of workers are sized by."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on: fewer than the machine has when its affinity is
    limited (taskset, a container's cpuset), where os.cpu_count() would size a pool for
    every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
