"""Fingerprints of the stories a --since run does not read, so new ones are checked against all.

A story's fingerprint (policy.fingerprint: a digest of its normalised text and a MinHash
sketch) depends only on its file's bytes, so it is kept by the file's git blob id. git names
every unchanged file's blob without reading it (`git ls-tree`), so a run with a warm cache
reads no story file at all; a cold one reads each once, on every core. The cache is keyed by
a fingerprint of the code and the stories schema: any change there, and it is rebuilt.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import os
import struct
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines import cachefiles
from pipelines.load import RecordShape, read_record_file
from pipelines.logs import get_logger
from pipelines.package import SourcePackage
from pipelines.validate.parallel import map_in_order
from pipelines.validate.policy import SKETCH_SIZE, fingerprint

log = get_logger(__name__)

CORPUS_FORMAT = 2
_SKETCH = struct.Struct(f"<{SKETCH_SIZE}q")
_DIGEST_SIZE = 32

# An entry, packed in bytes (cheap to store and load at 100,000 stories): the digest of the
# normalised text, the sketch as SKETCH_SIZE signed 64-bit integers (fewer for a text of
# fewer shingles: a count byte first) and the story id. Empty: not a published story with
# text, so never a duplicate's original.
Entry = bytes


def _pack(story_id: str, digest: bytes, sketch: tuple[int, ...]) -> Entry:
    values = (*sketch, *(0,) * (SKETCH_SIZE - len(sketch)))
    return bytes([len(sketch)]) + digest + _SKETCH.pack(*values) + story_id.encode()


def _unpack(entry: Entry) -> tuple[str, bytes, tuple[int, ...]]:
    count = entry[0]
    digest = entry[1 : 1 + _DIGEST_SIZE]
    sketch = _SKETCH.unpack_from(entry, 1 + _DIGEST_SIZE)[:count]
    story_id = entry[1 + _DIGEST_SIZE + _SKETCH.size :].decode()
    return story_id, digest, sketch


def _well_formed(entry: object) -> bool:
    return isinstance(entry, bytes) and (
        not entry
        or (len(entry) >= 1 + _DIGEST_SIZE + _SKETCH.size and 1 <= entry[0] <= SKETCH_SIZE)
    )


@dataclass(frozen=True)
class Fingerprint:
    """A published story that was not read: its id, its file as problems name it, its text's marks."""

    story_id: str
    path: str
    digest: bytes
    sketch: tuple[int, ...]


def _blobs(data_dir: Path, revision: str, folder: str) -> dict[str, bytes] | None:
    """Blob ids of the files under folder at revision, by path relative to data_dir."""
    try:
        listed = subprocess.run(
            ["git", "ls-tree", "-r", "-z", revision, "--", folder],
            cwd=data_dir,
            capture_output=True,
            check=False,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        log.warning("cannot list %s with git: %s", folder, error)
        return None
    if listed.returncode != 0:
        log.warning("cannot list %s with git: %s", folder, listed.stderr.decode(errors="replace"))
        return None
    out = {}
    for record in listed.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        meta, _, path = record.partition("\t")
        parts = meta.split(" ")
        if len(parts) == 3 and parts[1] == "blob":
            out[path] = bytes.fromhex(parts[2])
    return out


def _code_fingerprint(package: SourcePackage, max_bytes: int) -> str:
    digest = hashlib.sha256(f"{CORPUS_FORMAT}\0{sys.version}\0{max_bytes}\0".encode())
    for module in (
        "pipelines.load",
        "pipelines.recordfile",
        "pipelines.yamlfile",
        "pipelines.validate.policy",
    ):
        digest.update(Path(sys.modules[module].__file__ or "").read_bytes())
    stories = package.table("stories")
    children = package.children("stories")
    digest.update(json.dumps([stories.schema, [c.schema for c in children]]).encode())
    return digest.hexdigest()


def _read_entry(path: str, shape: RecordShape, max_bytes: int) -> Entry:
    """The fingerprint entry of one story file (a module function, so workers can run it)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return b""
    parsed, _issues = read_record_file(
        raw, path, shape.table, list(shape.children), max_bytes, shape
    )
    if parsed is None:
        return b""
    row = parsed[0]
    text = row.get("story")
    if row.get("status") != "published" or not text:
        return b""
    digest, sketch = fingerprint(text)
    return _pack(row.get("id") or "", digest, sketch)


def _open(path: Path, key: str) -> dict[bytes, Entry]:
    try:
        stored = marshal.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, EOFError, ValueError, TypeError) as error:
        log.warning("ignoring the fingerprint cache %s: %s", path.as_posix(), error)
        return {}
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
        entries = stored[1]
        if isinstance(entries, dict):
            return entries
    return {}


def _save(path: Path, key: str, entries: dict[bytes, Entry]) -> None:
    data = marshal.dumps((key, dict(sorted(entries.items()))))
    cachefiles.keep(path, data, "the fingerprint cache")


def unread_stories(
    data_dir: Path,
    shown_dir: str,
    package: SourcePackage,
    revision: str,
    skip: Iterable[str],
    max_bytes: int,
    cache_dir: Path | None,
) -> list[Fingerprint] | None:
    """The published stories in data_dir that are as they were at revision, except those in
    skip (paths relative to data_dir); None when git cannot list them."""
    stories = package.table("stories")
    blobs = _blobs(data_dir, revision, stories.path)
    if blobs is None:
        return None
    skipped = set(skip)
    wanted = {
        path: blob
        for path, blob in blobs.items()
        if path.endswith(".yaml") and path not in skipped and not path.rsplit("/", 1)[-1][:1] == "."
    }
    key = _code_fingerprint(package, max_bytes)
    name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    cache_path = None if cache_dir is None else cache_dir / f"fingerprints-{name}.marshal"
    known = _open(cache_path, key) if cache_path is not None else {}
    entries: dict[bytes, Entry] = {}
    missing = []
    for path, blob in wanted.items():
        if blob in known and _well_formed(known[blob]):
            entries[blob] = known[blob]
        else:
            missing.append(path)
    if missing:
        shape = RecordShape.of(stories, package.children("stories"))
        read = functools.partial(_read_entry, shape=shape, max_bytes=max_bytes)
        files = [os.path.join(data_dir, path) for path in missing]
        for path, entry in zip(missing, map_in_order(read, files), strict=True):
            entries[wanted[path]] = entry
        if cache_path is not None:
            _save(cache_path, key, entries)
    log.info(
        "compared with %d stories not read: %d fingerprints came from the cache",
        len(wanted),
        len(wanted) - len(missing),
    )
    out = []
    for path, blob in wanted.items():
        entry = entries[blob]
        if entry:
            story_id, digest, sketch = _unpack(entry)
            out.append(Fingerprint(story_id, f"{shown_dir}/{path}", digest, sketch))
    return out
