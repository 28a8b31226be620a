"""Run a pure function over many texts on every core, in the same order as a plain loop.

Used by the text rules of a large commons: at 100,000 stories their regular expressions are
most of a full validation. Forked workers (no re-import, no pickled code) get the texts in
chunks; results come back in order, so the report is the same as a single process's.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import TypeVar

from pipelines.cores import usable_cores

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting worker processes costs more than it saves.
PARALLEL_MIN = 4000
CHUNK = 1000


def _apply(job: tuple[Callable[[T], R], Sequence[T]]) -> list[R]:
    function, items = job
    return [function(item) for item in items]


def map_in_order(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """[function(item) for item in items], on every core when there are many items."""
    cores = usable_cores()
    if (
        len(items) < PARALLEL_MIN
        or cores < 2
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return [function(item) for item in items]
    jobs = [(function, items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        return [result for chunk in pool.imap(_apply, jobs) for result in chunk]
