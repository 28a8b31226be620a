"""Run one command and report its wall time, CPU time and peak memory, as JSON.

A separate process per measurement, so resource.getrusage(RUSAGE_CHILDREN) sees only that
command and the processes it started (ru_maxrss is the largest single one of them). The
memory of all of them at once is sampled too: the sum of their proportional set sizes
(PSS: a page shared by forked processes counts once, split between them).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

# Reading smaps_rollup walks a process's page tables: sampling more often took a quarter of a
# core from the build being measured.
SAMPLE_EVERY = 0.5  # seconds


def _children() -> dict[int, list[int]]:
    """Every process's children, by parent pid, as /proc lists them now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # The name, in brackets, may hold spaces: the fields after it are plain.
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_pss_mb(root: int) -> float:
    """The summed PSS of root and every process under it, in MB (0 where /proc has none)."""
    children = _children()
    total_kb, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kb += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue  # ended meanwhile, or not ours to read
    return total_kb / 1024


class TreeMemory(threading.Thread):
    """Samples tree_pss_mb(pid) until stopped; peak is the largest sample."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak = pid, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.peak = max(self.peak, tree_pss_mb(self.pid))


def main() -> None:
    started = time.perf_counter()
    process = subprocess.Popen(
        sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    memory = TreeMemory(process.pid)
    memory.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    memory.done.set()
    memory.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    json.dump(
        {
            "seconds": seconds,
            # User + system time of the command and every process it waited for: less
            # sensitive than wall time to other work on the machine.
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024,
            "total_peak_mb": memory.peak,
            "returncode": process.returncode,
            "stdout": stdout[-4000:],
            "stderr": stderr[-4000:],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
