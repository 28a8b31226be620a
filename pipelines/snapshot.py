"""The data snapshot: what each data file held when it was last read, found again by its stat.

Like git's index, the snapshot keeps for every file of data/ its stat signature (size, inode,
mtime, ctime) and the sha256 of its bytes, and for a record file its parse and derive's value
too. A file whose signature is unchanged since it was recorded is not opened again: at
100,000 stories, reading, hashing and parsing every file was half a one-story rebuild. A
write always moves ctime, which nothing but the kernel sets; a file changed within
SETTLED_NS of being stat'ed could change again within the same clock tick, so its signature
is not recorded (as git's "racy" entries) and it is read again next time.

The digests are facts about bytes and are used whatever the code (input_digest needs only
them); the parses and values are used only under the fingerprint they were made with: the
schemas, the size limit, the Python version, the libraries and the code that parse and
derive. Its files are written atomically and hold plain values only (marshal builds no
objects and runs no code); the index file holds the sha256 of itself and of each bucket
file of parses: a corrupt, truncated, old or foreign snapshot is ignored, with a log line,
and everything is read as if there were none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines import cachefiles, recordfile, yamlfile
from pipelines.logs import get_logger
from pipelines.package import SourcePackage
from pipelines.recordfile import Packed
from pipelines.versions import add_library_versions

log = get_logger(__name__)

SNAPSHOT_FORMAT = 2
MAGIC = b"feedback-commons data snapshot\n"
# A file changed again within this long of being stat'ed could keep the same mtime and
# ctime (file systems keep time in ticks): as build.InputListing.
SETTLED_NS = 2_000_000_000
# The parses are kept in this many files, each record file's by a hash of its name: a
# rebuild after one new story writes one of them again, not every parse (240 MB at
# 100,000 stories).
BUCKETS = 64
# Libraries whose version changes a parse (libyaml) or validate's derived values (the
# phone number scan).
LIBRARIES = ("pyyaml", "phonenumbers")

# size, inode, mtime_ns, ctime_ns
Signature = tuple[int, int, int, int]
# A file's signature when it was settled (else None) and the sha256 of its bytes.
IndexEntry = tuple[Signature | None, bytes]
# A record file's packed parse and derive's value for its row.
ParseEntry = tuple[Packed, Any]


def signature(path: str | Path) -> Signature | None:
    """The file's stat signature, or None when it cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns)


def settled(found: Signature | None, stat_at: int) -> Signature | None:
    """found, if the file was last changed well before stat_at (time.time_ns() before the stat)."""
    if found is None or found[3] >= stat_at - SETTLED_NS:
        return None
    return found


def parse_fingerprint(package: SourcePackage, max_bytes: int, shown_dir: str) -> str:
    """What a file's recorded parse depends on besides its own bytes: the schemas, the size
    limit, the Python version, libyaml and the code that parses and records it."""
    digest = hashlib.sha256()
    digest.update(f"{SNAPSHOT_FORMAT}\0{sys.version}\0{max_bytes}\0{shown_dir}\0".encode())
    add_library_versions(digest, LIBRARIES)
    # This module and readpool make what is recorded from what recordfile gives.
    here = Path(__file__)
    for module in (recordfile.__file__, yamlfile.__file__, here, here.with_name("readpool.py")):
        digest.update(Path(module or "").read_bytes())
    tables = [
        [t.name, t.path, t.format, t.part_of, t.key, t.layout, t.schema] for t in package.tables
    ]
    digest.update(json.dumps(tables, sort_keys=True).encode())
    return digest.hexdigest()


def snapshot_fingerprint(
    package: SourcePackage, max_bytes: int, shown_dir: str, derive: Callable[..., Any] | None
) -> str:
    """parse_fingerprint, and derive's name and the code of its package (every module in
    its folder: derive may call any of them)."""
    digest = hashlib.sha256(parse_fingerprint(package, max_bytes, shown_dir).encode())
    if derive is not None:
        digest.update(f"\0{derive.__module__}.{derive.__qualname__}\0".encode())
        folder = Path(sys.modules[derive.__module__].__file__ or "").parent
        for path in sorted(folder.glob("*.py")):
            digest.update(f"{path.name}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def snapshot_path(cache_dir: Path, data_dir: Path) -> Path:
    name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"snapshot-{name}.marshal"


class SnapshotUnusable(Exception):
    """The snapshot file is not one this code wrote, or it is damaged."""


# The index file: MAGIC, the marshalled index (every file's signature and digest), the
# marshalled trailer and the trailer's length (8 bytes). The trailer holds the format, the
# fingerprint, the index's sha256 and, for each bucket of parses, its number and the sha256
# of its file's bytes (which names the file: a bucket unchanged is not written again).
Trailer = tuple[int, str, bytes, list[tuple[int, bytes]]]


def _bucket(shown: str) -> int:
    return zlib.crc32(shown.encode("utf-8", "surrogateescape")) % BUCKETS


def _bucket_path(path: Path, digest: bytes) -> Path:
    return path.with_name(f"{path.stem}-{digest.hex()[:24]}{path.suffix}")


def _read_index(path: Path) -> tuple[str, dict[str, IndexEntry], list[tuple[int, bytes]]]:
    """The fingerprint, the index and the buckets' numbers and digests of an index file."""
    data = path.read_bytes()
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise SnapshotUnusable("not a data snapshot")
    trailer_length = int.from_bytes(data[-8:], "big")
    if trailer_length > len(data) - len(MAGIC) - 8:
        raise SnapshotUnusable("damaged")
    trailer = marshal.loads(data[-8 - trailer_length : -8])
    if not (
        isinstance(trailer, tuple)
        and len(trailer) == 4
        and trailer[0] == SNAPSHOT_FORMAT
        and isinstance(trailer[1], str)
        and isinstance(trailer[2], bytes)
        and isinstance(trailer[3], list)
        and all(
            isinstance(b, tuple)
            and len(b) == 2
            and isinstance(b[0], int)
            and isinstance(b[1], bytes)
            for b in trailer[3]
        )
    ):
        raise SnapshotUnusable("written by another version")
    index_bytes = data[len(MAGIC) : -8 - trailer_length]
    if hashlib.sha256(index_bytes).digest() != trailer[2]:
        raise SnapshotUnusable("damaged")
    index = marshal.loads(index_bytes)
    if not isinstance(index, dict):
        raise SnapshotUnusable("damaged")
    return trailer[1], index, trailer[3]


def _read_bucket(path: Path, digest: bytes) -> dict[str, ParseEntry]:
    data = _bucket_path(path, digest).read_bytes()
    if hashlib.sha256(data).digest() != digest:
        raise SnapshotUnusable("a bucket of parses is damaged")
    bucket = marshal.loads(data)
    if not isinstance(bucket, dict):
        raise SnapshotUnusable("a bucket of parses is damaged")
    return bucket


UNUSABLE = (OSError, EOFError, ValueError, TypeError, SnapshotUnusable)


def _open_index(path: Path) -> tuple[str, dict[str, IndexEntry], list[tuple[int, bytes]]] | None:
    try:
        return _read_index(path)
    except FileNotFoundError:
        return None
    except UNUSABLE as error:
        log.warning("ignoring the data snapshot %s: %s", path.as_posix(), error)
        return None


def known_digests(cache_dir: Path, data_dir: Path) -> dict[str, IndexEntry]:
    """Each recorded file's signature and digest (whatever code wrote them), by shown path."""
    opened = _open_index(snapshot_path(cache_dir, data_dir))
    return {} if opened is None else opened[1]


def digest_if_unchanged(known: dict[str, IndexEntry], shown: str, path: str | Path) -> bytes | None:
    """The recorded sha256 of the file, if its signature is as recorded (and was settled)."""
    entry = known.get(shown)
    if type(entry) is not tuple or len(entry) != 2 or entry[0] is None:
        return None
    if entry[0] != signature(path) or not isinstance(entry[1], bytes):
        return None
    return entry[1]


class Snapshot:
    """The snapshot of one data folder: looked up while it is loaded, then written anew."""

    def __init__(
        self,
        path: Path,
        fingerprint: str,
        index: dict[str, IndexEntry],
        parses: dict[str, ParseEntry],
        buckets: dict[int, bytes],
    ) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.index = index
        self.parses = parses
        # The digest of each bucket file read, and the files whose parse is not the one read.
        self.buckets = buckets
        self.changed_parses: list[str] = []
        self.new_index: dict[str, IndexEntry] = {}
        self.new_parses: dict[str, ParseEntry] = {}
        self.changed = False
        self.unchanged_files = 0
        self.libyaml_reads = 0
        self.same_bytes_files = 0

    @classmethod
    def open(cls, cache_dir: Path, data_dir: Path, fingerprint: str) -> Snapshot:
        """The snapshot of data_dir; empty when there is none, it is damaged or out of date."""
        path = snapshot_path(cache_dir, data_dir)
        opened = _open_index(path)
        if opened is None:
            return cls(path, fingerprint, {}, {}, {})
        stored_fingerprint, index, buckets = opened
        if stored_fingerprint != fingerprint:
            log.info("not using the data snapshot %s: it is out of date", path.as_posix())
            return cls(path, fingerprint, {}, {}, {})
        parses: dict[str, ParseEntry] = {}
        try:
            for _number, digest in buckets:
                parses.update(_read_bucket(path, digest))
        except UNUSABLE as error:
            log.warning("ignoring the data snapshot %s: %s", path.as_posix(), error)
            return cls(path, fingerprint, {}, {}, {})
        return cls(path, fingerprint, index, parses, dict(buckets))

    def lookup(
        self, listed: list[tuple[str, str]]
    ) -> tuple[list[tuple[bytes, Packed, Any] | None], list[Signature | None]]:
        """For each (path, shown): its digest, packed parse and value when unchanged since
        recorded (else None), and the signature to record for it when read now."""
        stat_at = time.time_ns()
        found: list[tuple[bytes, Packed, Any] | None] = []
        signatures: list[Signature | None] = []
        index, parses = self.index, self.parses
        for path, shown in listed:
            now = signature(path)
            signatures.append(settled(now, stat_at))
            entry = index.get(shown)
            parse = parses.get(shown)
            if (
                now is None
                or entry is None
                or parse is None
                or type(entry) is not tuple
                or len(entry) != 2
                or entry[0] != now
                or not isinstance(entry[1], bytes)
                or type(parse) is not tuple
                or len(parse) != 2
                or not _well_formed(parse[0])
            ):
                found.append(None)
                continue
            self.new_index[shown] = entry
            self.new_parses[shown] = parse
            found.append((entry[1], parse[0], parse[1]))
        self.unchanged_files += sum(hit is not None for hit in found)
        return found, signatures

    def same_bytes(self, shown: str, digest: bytes) -> ParseEntry | None:
        """The recorded parse and value of a file whose bytes are as recorded (its stat is
        not: it was touched, or not settled), so libyaml need not read it again."""
        entry = self.index.get(shown)
        parse = self.parses.get(shown)
        if (
            type(entry) is not tuple
            or len(entry) != 2
            or entry[1] != digest
            or type(parse) is not tuple
            or len(parse) != 2
            or not _well_formed(parse[0])
        ):
            return None
        self.same_bytes_files += 1
        return parse

    def record(
        self, shown: str, found: Signature | None, digest: bytes, parse: ParseEntry | None = None
    ) -> None:
        """Keep what was read now: the file's settled signature (or None), digest and parse."""
        entry = (found, digest)
        if self.index.get(shown) != entry:
            self.changed = True
        self.new_index[shown] = entry
        if parse is not None:
            self.new_parses[shown] = parse
            if self.parses.get(shown) is not parse:
                self.changed_parses.append(shown)

    def save(self) -> None:
        """Write what this load saw, if anything differs from what was read: the buckets of
        parses that changed, then the index file (which commits them), then the buckets
        nothing refers to any more are removed."""
        if (
            not self.changed
            and not self.changed_parses
            and self.new_index.keys() == self.index.keys()
        ):
            return
        names: dict[int, list[str]] = {}
        for name in self.new_parses:
            names.setdefault(_bucket(name), []).append(name)
        gone = self.parses.keys() - self.new_parses.keys()
        changed = {_bucket(name) for name in (*self.changed_parses, *gone)}
        buckets = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for number in sorted(names):
                kept = self.buckets.get(number)
                if kept is not None and number not in changed:
                    buckets.append((number, kept))
                    continue
                data = marshal.dumps({n: self.new_parses[n] for n in sorted(names[number])})
                digest = hashlib.sha256(data).digest()
                cachefiles.write_whole(_bucket_path(self.path, digest), data)
                buckets.append((number, digest))
            index = marshal.dumps(dict(sorted(self.new_index.items())))
            trailer = marshal.dumps(
                (SNAPSHOT_FORMAT, self.fingerprint, hashlib.sha256(index).digest(), buckets)
            )
            cachefiles.write_whole(
                self.path, MAGIC + index + trailer + len(trailer).to_bytes(8, "big")
            )
        except OSError as error:
            log.warning("could not write the data snapshot %s: %s", self.path.as_posix(), error)
            return
        used = {_bucket_path(self.path, digest).name for _number, digest in buckets}
        for path in self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"):
            if path.name not in used:
                with contextlib.suppress(OSError):
                    path.unlink()


def _well_formed(packed: Any) -> bool:
    """Whether a recorded parse has the shape unpack_parse expects (a damaged one is not used)."""
    if not (isinstance(packed, tuple) and len(packed) == 2 and isinstance(packed[1], list)):
        return False
    parsed = packed[0]
    return parsed is None or (
        isinstance(parsed, tuple)
        and len(parsed) == 4
        and isinstance(parsed[0], dict)
        and isinstance(parsed[1], int)
        and isinstance(parsed[2], dict)
        and isinstance(parsed[3], dict)
    )
