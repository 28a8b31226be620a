"""Read many record files on every core, with results in the order given.

load.py reads record files through read_record_files: at 100,000 stories, reading, parsing
and the checks that look at one file alone (load_dataset's derive) are most of a validation. Workers are forked (nothing is
imported again, no code is pickled); each sends back one chunk's results as a single
marshal string (plain values only: several times cheaper to receive than a pickle of the
same values), so the parent's share of the work stays small.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from pipelines.cores import usable_cores
from pipelines.logs import get_logger
from pipelines.package import Table
from pipelines.recordfile import (
    Packed,
    Parsed,
    ReadIssue,
    RecordShape,
    Row,
    pack_parse,
    read_record_file,
    read_simple,
    unpack_parse,
)
from pipelines.snapshot import Snapshot

log = get_logger(__name__)

T = TypeVar("T")
# What a later stage computes from record rows as written, file by file, while they are read
# (on every core for a large commons): given one table's rows, one plain (marshal-able) value
# per row. validate's per-file checks are one.
Derive = Callable[[Table, list[Row]], list[Any]]

Job = Callable[[Sequence[T]], list[Any]]


def _marshalled(job: Job[T], chunk: Sequence[T]) -> bytes:
    return marshal.dumps(job(chunk))


def map_chunks(job: Job[T], items: Sequence[T], chunk_size: int, minimum: int) -> Iterator[Any]:
    """Each result of job over items, in order: job takes a chunk of items and returns one
    plain (marshal-able) value per item. On every core when there are at least minimum items
    and the platform can fork; otherwise in this process."""
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    cores = usable_cores()
    if len(items) < minimum or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for chunk in chunks:
            yield from job(chunk)
        return
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        for packed in pool.imap(functools.partial(_marshalled, job), chunks):
            yield from marshal.loads(packed)


# Above this many files, they are read on every core (see map_chunks): workers read and
# parse chunks of files, compute derive's values, and send all back as plain values.
PARALLEL_READ_MIN = 20000
READ_CHUNK = 2000

# A file's result from a worker: its sha256, its packed parse (None when it is not in the
# simple subset, or reading it failed in the worker: the parent then reads it as any other)
# and derive's value for its row.
Read = tuple[bytes, Packed | None, Any]


def _read_one(
    path: str, shown: str, shape: RecordShape, max_bytes: int
) -> tuple[bytes, tuple[Parsed | None, list[ReadIssue]] | None]:
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        simple = read_simple(raw, shown, shape, max_bytes)
    except Exception:  # a file the simple reader trips on is read in full
        log.debug("reading %s in full after the simple reader failed", shown, exc_info=True)
        simple = None
    return hashlib.sha256(raw).digest(), simple


def _derived(derive: Derive | None, table: Table, rows: list[Row]) -> list[Any]:
    """derive's values for rows, or None for each when it fails (the rules then work them out)."""
    if derive is None or not rows:
        return [None] * len(rows)
    try:
        return derive(table, rows)
    except Exception:  # never lose a file to a failing derive
        log.debug("derived values of %s were not computed here", table.name, exc_info=True)
        return [None] * len(rows)


def _read_chunk(
    chunk: list[tuple[str, str]], shape: RecordShape, max_bytes: int, derive: Derive | None
) -> list[Read]:
    """Each file's sha256, packed simple parse and derived value (a worker's job)."""
    read = [_read_one(path, shown, shape, max_bytes) for path, shown in chunk]
    parsed_rows = [simple[0][0] for _digest, simple in read if simple and simple[0]]
    values = iter(_derived(derive, shape.table, parsed_rows))
    return [
        (
            digest,
            None if simple is None else pack_parse(*simple),
            next(values) if simple and simple[0] else None,
        )
        for digest, simple in read
    ]


def read_record_files(
    listed: list[tuple[str, str]],
    shape: RecordShape,
    max_bytes: int,
    snapshot: Snapshot | None,
    derive: Derive | None = None,
) -> Iterator[tuple[str, tuple[Parsed | None, list[ReadIssue]], bytes, Any]]:
    """Each file's parse, sha256 and derived value, in the order given: from the snapshot
    when its stat is unchanged, else read simply (on every core when many) or by libyaml."""
    children = list(shape.children)
    if snapshot is None:
        recorded: list[tuple[bytes, Packed, Any] | None] = [None] * len(listed)
        signatures: list[Any] = [None] * len(listed)
    else:
        recorded, signatures = snapshot.lookup(listed)
    to_read = [item for item, hit in zip(listed, recorded, strict=True) if hit is None]
    job = functools.partial(_read_chunk, shape=shape, max_bytes=max_bytes, derive=derive)
    fresh = zip(to_read, map_chunks(job, to_read, READ_CHUNK, PARALLEL_READ_MIN), strict=True)
    for (path, shown), hit, found in zip(listed, recorded, signatures, strict=True):
        if hit is not None:
            digest, packed, value = hit
            yield shown, unpack_parse(packed, shown), digest, value
            continue
        _item, (digest, packed, value) = next(fresh)
        if packed is not None:
            result = unpack_parse(packed, shown)
        else:
            cached = None if snapshot is None else snapshot.same_bytes(shown, digest)
            if cached is not None:
                packed, value = cached
                result = unpack_parse(packed, shown)
            else:
                with open(path, "rb") as handle:
                    raw = handle.read()
                # The digest of the bytes parsed here: the file may have changed since.
                digest = hashlib.sha256(raw).digest()
                result = read_record_file(raw, shown, shape.table, children, max_bytes, shape)
                parsed = result[0]
                value = _derived(derive, shape.table, [parsed[0]])[0] if parsed else None
                if snapshot is not None:
                    snapshot.libyaml_reads += 1
                    packed = pack_parse(*result)
        if snapshot is not None and packed is not None:
            snapshot.record(shown, found, digest, (packed, value))
        yield shown, result, digest, value
    # Drain the workers' results so that their pool closes now, not when collected.
    if next(fresh, None) is not None:
        raise RuntimeError("more files were read than listed")
