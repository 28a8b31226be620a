"""The parse cache: parses of record files that libyaml had to read, kept between runs."""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from pipelines import recordfile, yamlfile
from pipelines.package import SourcePackage
from pipelines.recordfile import Packed

log = logging.getLogger(__name__)

# Nearly every record file is in the simple subset of YAML that yamlfile.parse_simple_yaml
# reads in tens of microseconds: reading such a file again is cheaper than looking it up.
# The others go through libyaml (ten times slower), so their parses are kept between runs:
# the cache maps each such file to the sha256 of its bytes and its parse, in one marshal
# file (marshal builds only plain values, never objects or code, so a tampered cache cannot
# run anything). The whole cache is keyed by a fingerprint of the schemas, the size limit
# and the code that parses (recordfile, yamlfile): any change there, or a corrupt file, and
# the cache is ignored.

CACHE_FORMAT = 2


def parse_fingerprint(package: SourcePackage, max_bytes: int, shown_dir: str) -> str:
    """What a file's parse depends on besides its own bytes: the schemas, the size limit,
    the Python version and the code that parses."""
    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}\0{sys.version}\0{max_bytes}\0{shown_dir}\0".encode())
    for module in (recordfile.__file__, yamlfile.__file__):
        digest.update(Path(module or "").read_bytes())
    tables = [
        [t.name, t.path, t.format, t.part_of, t.key, t.layout, t.schema] for t in package.tables
    ]
    digest.update(json.dumps(tables, sort_keys=True).encode())
    return digest.hexdigest()


class ParseCache:
    """Parses of record files by the sha256 of their bytes, kept between runs in cache_dir."""

    def __init__(self, path: Path, fingerprint: str, entries: dict[str, tuple[bytes, Packed]]):
        self.path = path
        self.fingerprint = fingerprint
        self.entries = entries
        self.used: dict[str, tuple[bytes, Packed]] = {}
        self.hits = 0
        self.misses = 0

    @classmethod
    def open(cls, cache_dir: Path, data_dir: Path, fingerprint: str) -> ParseCache:
        """The cache for data_dir; empty when there is none, it is corrupt or out of date."""
        name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
        path = cache_dir / f"parse-{name}.marshal"
        entries: dict[str, tuple[bytes, Packed]] = {}
        try:
            stored = marshal.loads(path.read_bytes())
            if (
                isinstance(stored, tuple)
                and len(stored) == 3
                and stored[0] == CACHE_FORMAT
                and stored[1] == fingerprint
                and isinstance(stored[2], dict)
            ):
                entries = stored[2]
            else:
                log.info("ignoring the parse cache %s: it is out of date", path.as_posix())
                cls._remove(path)
        except FileNotFoundError:
            pass
        except (OSError, EOFError, ValueError, TypeError) as error:
            log.warning("ignoring the parse cache %s: %s", path.as_posix(), error)
            cls._remove(path)
        return cls(path, fingerprint, entries)

    @staticmethod
    def _remove(path: Path) -> None:
        """Remove a cache that cannot be used, so that later runs do not read it again."""
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not remove the parse cache %s: %s", path.as_posix(), error)

    def get(self, shown: str, digest: bytes) -> Packed | None:
        entry = self.entries.get(shown)
        if entry is None or not isinstance(entry, tuple) or len(entry) != 2 or entry[0] != digest:
            return None
        if not _well_formed(entry[1]):
            return None
        self.used[shown] = entry
        self.hits += 1
        return entry[1]

    def put(self, shown: str, digest: bytes, packed: Packed) -> None:
        self.used[shown] = (digest, packed)
        self.misses += 1

    def save(self, complete: bool) -> None:
        """Write the entries of this run (and, after a partial run, the others too)."""
        if not self.misses and (not complete or len(self.used) == len(self.entries)):
            return
        entries = self.used if complete else {**self.entries, **self.used}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_bytes(
                marshal.dumps((CACHE_FORMAT, self.fingerprint, dict(sorted(entries.items()))))
            )
            temporary.replace(self.path)
        except OSError as error:
            log.warning("could not write the parse cache %s: %s", self.path.as_posix(), error)


def _well_formed(packed: Any) -> bool:
    """Whether a cached parse has the shape unpack_parse expects (a damaged entry is not used)."""
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
