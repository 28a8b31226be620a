"""Run one command and report its wall time, CPU time and peak memory, as JSON.

A separate process per measurement, so resource.getrusage(RUSAGE_CHILDREN) sees only that
command and the processes it started (ru_maxrss is the largest single one of them).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> None:
    started = time.perf_counter()
    completed = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    json.dump(
        {
            "seconds": seconds,
            # User + system time of the command and every process it waited for: less
            # sensitive than wall time to other work on the machine.
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "peak_mb": usage.ru_maxrss / 1024,
            "returncode": completed.returncode,
            "stdout": completed.stdout[-4000:],
            "stderr": completed.stderr[-4000:],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
