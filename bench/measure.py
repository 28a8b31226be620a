"""Run one command and report its wall time and the peak memory of its processes, as JSON.

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
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump(
        {
            "seconds": seconds,
            "peak_mb": peak_kb / 1024,
            "returncode": completed.returncode,
            "stdout": completed.stdout[-4000:],
            "stderr": completed.stderr[-4000:],
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
