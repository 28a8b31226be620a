"""The package's files one by one: each is written, or kept from the previous export when
the bytes it would hold are known to be the ones that export wrote.

The previous export's stamp (reuse.py) lists each file with its size, inode and
modification time, its SHA-256 and the key of what it was made from (for a table's CSV,
JSON and Parquet, a digest of the table's Arrow data and schema and of the code and
libraries that write it). A file is kept when this export knows its SHA-256 before writing
it (a provider's file, cut from buffers in memory) or its key, that equals the listed one,
and the previous folder still holds the file as listed. A kept file stays where it is
when the export updates the previous folder in place, and is linked from it otherwise:
either way the package holds the very bytes a clean export writes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipelines.export.formats import sha256_of, write_file
from pipelines.export.tables import PublishedTable
from pipelines.listing import still_holds
from pipelines.staging import Staging
from pipelines.versions import add_library_versions

# Libraries whose version can change the bytes of the package.
LIBRARIES = ("pyarrow", "numpy", "pyyaml")
CODE = Path(__file__).resolve().parent.parent  # the pipelines package: load, validate, export
PARTS_FORMAT = 1


def environment_key() -> str:
    """A digest of what, besides its data, a file of the package is made by: this code, the
    Python, SQLite and zlib it runs on and the libraries that write the formats."""
    digest = hashlib.sha256()
    digest.update(f"{PARTS_FORMAT}\0{sys.version}\0{sqlite3.sqlite_version}\0".encode())
    digest.update(f"{zlib.ZLIB_RUNTIME_VERSION}\0".encode())
    add_library_versions(digest, LIBRARIES)
    for path in sorted(CODE.rglob("*.py")):
        digest.update(f"{path.relative_to(CODE).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def table_key(table: PublishedTable, environment: str) -> str:
    """A digest of everything the table's CSV, JSON and Parquet files are made from.

    Each column's buffers are hashed as they are, with the array's type, length, offset and
    null count: equal buffers make the same array, so the same files. (Two equal tables held
    in different buffers would only get different keys: their files would be written.)
    """
    digest = hashlib.sha256(f"{environment}\0{table.name}\0".encode())
    digest.update(repr(sorted(table.schema.items())).encode())
    digest.update(f"\0{table.data.schema}\0{table.data.num_rows}\0".encode())
    for column in table.data.columns:
        digest.update(f"column {column.num_chunks}\0".encode())
        for chunk in column.chunks:
            _add_array(digest, chunk)
    return digest.hexdigest()


def _add_array(digest: Any, array: pa.Array) -> None:
    kind = array.type
    if not (
        pa.types.is_primitive(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        # Nested and dictionary arrays keep part of their data outside buffers(): hashed
        # whole, as Arrow's stream format writes them. No published column is one.
        sink = pa.BufferOutputStream()
        batch = pa.record_batch([array], names=["column"])
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        digest.update(sink.getvalue())
        return
    digest.update(f"{kind}\0{len(array)}\0{array.offset}\0{array.null_count}\0".encode())
    for buffer in array.buffers():
        if buffer is None:
            digest.update(b"none\0")
        else:
            digest.update(f"{buffer.size}\0".encode())
            digest.update(buffer)


def _holds(path: Path, parts: list[bytes | memoryview]) -> bool:
    """Whether the file at path holds parts one after another (and, its size known, no more)."""
    try:
        with path.open("rb") as stream:
            # Compared as Arrow buffers: a plain memcmp (a memoryview of Arrow's buffer
            # reads as signed chars, which bytes compares item by item, and unequal past 127).
            return all(
                pa.py_buffer(stream.read(memoryview(part).nbytes)).equals(pa.py_buffer(part))
                for part in parts
            )
    except OSError:
        return False


def combined_key(*keys: str) -> str:
    return hashlib.sha256("\0".join(keys).encode()).hexdigest()


@dataclass(frozen=True)
class Listed:
    """A file as the export's stamp lists it."""

    size: int
    inode: int
    mtime_ns: int
    sha256: str
    key: str  # what the file was made from; "" when its SHA-256 alone tells

    @classmethod
    def of(cls, path: Path, sha256: str, key: str) -> Listed:
        info = path.stat()
        return cls(info.st_size, info.st_ino, info.st_mtime_ns, sha256, key)

    def row(self, name: str) -> list[Any]:
        return [name, self.size, self.inode, self.mtime_ns, self.sha256, self.key]

    def found_at(self, path: Path) -> Listed | None:
        """This file listed as it is at path when path still holds its bytes (still_holds),
        else None."""
        info = still_holds(path, (self.size, self.inode, self.mtime_ns), self.sha256, sha256_of)
        if info is None:
            return None
        return Listed(info.st_size, info.st_ino, info.st_mtime_ns, self.sha256, self.key)


@dataclass
class Earlier:
    """The previous export's files, which this export may keep, and its zip's pieces."""

    previous: Path
    output: Staging
    files: dict[str, Listed]
    archive: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, previous: Path, output: Staging, stamp: dict[str, Any]) -> Earlier:
        files = {str(row[0]): Listed(*row[1:6]) for row in stamp.get("files", [])}
        return cls(previous, output, files, dict(stamp.get("archive") or {}))

    def __post_init__(self) -> None:
        self.in_place = (
            self.output.previous is not None
            and self.previous.resolve() == self.output.previous.resolve()
        )

    def intact(self, name: str) -> Listed | None:
        """The listing of previous's file name when it still is as listed."""
        listed = self.files.get(name)
        return None if listed is None else listed.found_at(self.previous / name)

    def keep(self, name: str, listed: Listed) -> Listed | None:
        """Put previous's file name into the output as it is; how it is listed there."""
        if self.in_place:
            self.output.keep(name)
            return listed
        target = self.output.dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.previous / name, target)
        except OSError:
            try:
                shutil.copy2(self.previous / name, target)
            except OSError:
                target.unlink(missing_ok=True)
                return None
        return Listed.of(target, listed.sha256, listed.key)


class PackageFiles:
    """Every file of the package being written into folder: its SHA-256, size and key, and
    whether it was kept from the previous export (which earlier describes, when there is one)."""

    def __init__(self, folder: Path, earlier: Earlier | None) -> None:
        self.folder = folder
        self.earlier = earlier
        self.reused: set[str] = set()  # kept in place or linked
        self.sha256: dict[str, str] = {}
        self.size: dict[str, int] = {}
        self.keys: dict[str, str] = {}
        self.kept: dict[str, Listed] = {}  # kept where they are, in the previous folder
        self.archive: dict[str, Any] = {}  # what archive.write_zip records of the zip

    def kept_as(self, name: str, *, key: str) -> bool:
        """Keep the previous file name when it was made from key and is still as listed;
        whether it was kept."""
        if self.earlier is None or not key:
            return False
        listed = self.earlier.intact(name)
        return listed is not None and listed.key == key and self._keep(name, listed, key)

    def _keep(self, name: str, listed: Listed, key: str) -> bool:
        assert self.earlier is not None
        placed = self.earlier.keep(name, listed)
        if placed is None:
            return False
        if self.earlier.in_place:
            self.kept[name] = placed
        self.reused.add(name)
        self.sha256[name], self.size[name], self.keys[name] = placed.sha256, placed.size, key
        return True

    def wrote(self, name: str, key: str = "") -> None:
        """Record the file name just written into folder, made from key."""
        path = self.folder / name
        self.sha256[name] = sha256_of(path)
        self.size[name] = path.stat().st_size
        self.keys[name] = key

    def put(self, name: str, parts: Iterable[bytes | memoryview], key: str = "") -> None:
        """The file name holding parts one after another, made from key: kept when the
        previous one holds those very bytes (compared, not hashed), else written."""
        parts = list(parts)
        listed = self.earlier.intact(name) if self.earlier is not None else None
        if (
            listed is not None
            and listed.size == sum(memoryview(part).nbytes for part in parts)
            and _holds(self.earlier.previous / name if self.earlier else self.folder, parts)
            and self._keep(name, listed, key)
        ):
            return
        path = self.folder / name
        self.sha256[name] = write_file(path, *parts)
        self.size[name] = path.stat().st_size
        self.keys[name] = key

    def path_of(self, name: str) -> Path:
        """Where the file name can be read now: in folder, or in the previous one when kept there."""
        if name in self.kept and self.earlier is not None:
            return self.earlier.previous / name
        return self.folder / name

    def listing(self) -> list[list[Any]]:
        """Every file as the stamp lists it, kept ones as they were listed."""
        rows = []
        for name in sorted(self.sha256):
            listed = self.kept.get(name) or Listed.of(
                self.folder / name, self.sha256[name], self.keys[name]
            )
            rows.append(listed.row(name))
        return rows
