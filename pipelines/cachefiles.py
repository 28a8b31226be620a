"""Files a build keeps for the next one (stamps, states, caches): whole or not at all.

Each is written to a temporary name beside it and renamed over it, so a reader sees the old
file or the new one, never half of one. A cache that cannot be written costs the next build
time, not this one its result: the failure is a warning.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pipelines.logs import get_logger

log = get_logger(__name__)


def keep(path: Path, data: bytes, what: str) -> bool:
    """Write data at path whole (making its folder); False, with a warning naming what
    and why, when it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(path, data)
    except OSError as error:
        log.warning("could not write %s %s: %s", what, path.as_posix(), error.strerror or error)
        return False
    return True


def write_whole(path: Path, data: bytes) -> None:
    """Write data at path whole, through a temporary beside it; raises OSError, leaving no
    temporary behind, for a caller that writes several files as one (the data snapshot)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        temporary.write_bytes(data)
        temporary.replace(path)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
