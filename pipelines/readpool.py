"""Run a job over many files in chunks, on every core, with results in the order given.

load.py reads record files through it: at 100,000 stories, reading, parsing and the checks
that look at one file alone are most of a validation. Workers are forked (nothing is
imported again, no code is pickled); each sends back one chunk's results as a single
marshal string (plain values only: several times cheaper to receive than a pickle of the
same values), so the parent's share of the work stays small.
"""

from __future__ import annotations

import functools
import marshal
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

Job = Callable[[Sequence[T]], list[Any]]


def _marshalled(job: Job[T], chunk: Sequence[T]) -> bytes:
    return marshal.dumps(job(chunk))


def map_chunks(job: Job[T], items: Sequence[T], chunk_size: int, minimum: int) -> Iterator[Any]:
    """Each result of job over items, in order: job takes a chunk of items and returns one
    plain (marshal-able) value per item. On every core when there are at least minimum items
    and the platform can fork; otherwise in this process."""
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    cores = os.cpu_count() or 1
    if len(items) < minimum or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for chunk in chunks:
            yield from job(chunk)
        return
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        for packed in pool.imap(functools.partial(_marshalled, job), chunks):
            yield from marshal.loads(packed)
