"""Load data/: every table's rows as the text contributors wrote, and where each value came from.

Loading never judges values (that is validation's job) and never fails on contributor
input: what cannot be read becomes a ReadIssue, kept with the Dataset.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.logs import get_logger
from pipelines.package import SourcePackage, Table, read_source_package
from pipelines.readpool import Derive, read_record_files
from pipelines.recordfile import (
    Location,
    Parsed,
    ReadIssue,
    RecordShape,
    Row,
    decode,
    flatten_record,
    read_record_file,
)
from pipelines.snapshot import (
    Signature,
    Snapshot,
    digest_if_unchanged,
    known_digests,
    settled,
    signature,
    snapshot_fingerprint,
)

# What other modules import from here (the record-file names live in recordfile).
__all__ = [
    "DEFAULT_CACHE_DIR",
    "DEFAULT_MAX_FILE_BYTES",
    "Dataset",
    "Derive",
    "Location",
    "Parsed",
    "ReadIssue",
    "RecordShape",
    "Row",
    "TableRows",
    "decode",
    "display_path",
    "flatten_record",
    "input_digest",
    "load_dataset",
    "max_file_bytes",
    "paused_gc",
    "read_csv_table",
    "read_record_file",
    "record_files",
]

log = get_logger(__name__)

DEFAULT_MAX_FILE_BYTES = 65536
# Where the CLI keeps caches between runs (git-ignored; `make clean` removes it).
DEFAULT_CACHE_DIR = Path(".cache")
YAML_SUFFIX = ".yaml"


@dataclass
class TableRows:
    """The rows of one table, in file order, each with its Location."""

    table: Table
    rows: list[Row] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)

    def add(self, row: Row, location: Location) -> None:
        self.rows.append(row)
        self.locations.append(location)


@dataclass
class Dataset:
    """Everything in data/, as written, with where it came from."""

    data_dir: Path
    display_dir: str
    package: SourcePackage
    tables: dict[str, TableRows]
    issues: list[ReadIssue]
    files: list[str]
    # sha256 over every file read, its name and bytes: equal digests, equal input.
    digest: str = ""
    # With load_dataset's derive: its value for each row of each one-file-per-record table,
    # in the order of the table's rows.
    derived: dict[str, list[Any]] = field(default_factory=dict)

    def rows(self, name: str) -> list[Row]:
        return self.tables[name].rows


def display_path(data_dir: Path) -> str:
    """The data directory as problems name it: relative to the working directory when inside it."""
    relative = os.path.relpath(data_dir.resolve(), Path.cwd().resolve())
    if relative.startswith(".."):
        relative = data_dir.name
    return Path(relative).as_posix()


def read_csv_table(
    data_dir: Path, shown_dir: str, table: Table, issues: list[ReadIssue], optional: bool = False
) -> tuple[TableRows, list[str]]:
    """A CSV table's rows; each row's Location is the line its record starts on.

    An optional table (feedback:optional in the descriptor) may have no file: it has no rows.
    """
    result = TableRows(table)
    path = data_dir / table.path
    shown = f"{shown_dir}/{table.path}"
    if not path.is_file():
        if not optional:
            issues.append(ReadIssue(shown, 0, 0, "missing-file", table.path, table=table.name))
        return result, []
    text = decode(path.read_bytes(), shown, issues, table.name)
    if text is None:
        return result, [shown]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as error:
        issues.append(ReadIssue(shown, 1, 0, "csv-syntax", str(error), table=table.name))
        return result, [shown]
    names = table.field_names
    issues.extend(
        ReadIssue(shown, 1, 0, "unknown-field", column, column, table.name)
        for column in header
        if column not in names
    )
    issues.extend(
        ReadIssue(shown, 1, 0, "missing-column", name, name, table.name)
        for name in names
        if name not in header
    )
    line = reader.line_num + 1
    try:
        for cells in reader:
            if not any(cells):
                line = reader.line_num + 1
                continue
            if len(cells) != len(header):
                issues.append(
                    ReadIssue(
                        shown,
                        line,
                        0,
                        "wrong-cell-count",
                        f"{len(cells)} of {len(header)}",
                        table=table.name,
                    )
                )
            values = dict(zip(header, cells, strict=False))
            row: Row = {name: (values.get(name) or None) for name in names}
            result.add(row, Location(shown, line, {name: (name, line) for name in names}))
            line = reader.line_num + 1
    except csv.Error as error:
        issues.append(ReadIssue(shown, line, 0, "csv-syntax", str(error), table=table.name))
    return result, [shown]


def record_files(
    data_dir: Path, shown_dir: str, table: Table, issues: list[ReadIssue]
) -> list[tuple[Path, str]]:
    """The record files of a one-file-per-record table, sorted; stray files become issues."""
    return [
        (Path(path), shown)
        for path, shown in _record_file_names(data_dir, shown_dir, table, issues)
    ]


def _record_file_names(
    data_dir: Path, shown_dir: str, table: Table, issues: list[ReadIssue]
) -> list[tuple[str, str]]:
    """record_files as plain strings: at 100,000 files, Path objects cost seconds."""
    folder = os.path.join(data_dir, table.path)
    if not os.path.isdir(folder):
        return []
    names: list[str] = []
    _files_in_order(folder, os.path.relpath(folder, data_dir).replace(os.sep, "/"), names)
    return _yaml_files(names, data_dir, shown_dir, table, issues)


def _yaml_files(
    names: list[str], data_dir: Path, shown_dir: str, table: Table, issues: list[ReadIssue]
) -> list[tuple[str, str]]:
    """Each YAML file of names (paths from data_dir, in order) as its path and its name as
    shown; any other file becomes a wrong-file-type issue."""
    prefix = os.path.join(data_dir, "")
    out = []
    for name in names:
        shown = f"{shown_dir}/{name}"
        if not name.endswith(YAML_SUFFIX):
            base = name.rsplit("/", 1)[-1]
            suffix = os.path.splitext(base)[1]
            issues.append(
                ReadIssue(shown, 0, 0, "wrong-file-type", suffix or base, table=table.name)
            )
            continue
        out.append((prefix + name, shown))
    return out


def _files_in_order(folder: str, relative: str, found: list[str]) -> None:
    """The files under folder (but those whose name starts with a dot) as relative/...,
    in the order of sorted(Path.rglob()): by path parts. Each folder's entries are taken in
    name order, a subfolder's files where its name falls (sorting every path's parts cost
    most of a second at 100,000 files). Like os.walk, it follows no link to a folder and
    passes over a folder it cannot read."""
    try:
        with os.scandir(folder) as scanned:
            entries = sorted(scanned, key=_entry_name)
    except OSError:
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if not is_dir:
            if not entry.name.startswith("."):
                found.append(f"{relative}/{entry.name}")
        elif not entry.is_symlink():
            _files_in_order(entry.path, f"{relative}/{entry.name}", found)


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _wanted_file_names(
    data_dir: Path, shown_dir: str, table: Table, wanted: set[Path], issues: list[ReadIssue]
) -> list[tuple[str, str]]:
    """_record_file_names for the wanted files only: the folder is not listed (at 100,000
    files, listing it was most of a --since run)."""
    folder = (data_dir / table.path).resolve()
    found = []
    for path in wanted:
        if folder not in path.parents or path.name.startswith(".") or not path.is_file():
            continue
        found.append(f"{table.path}/{path.relative_to(folder).as_posix()}")
    found.sort(key=lambda name: name.split("/"))
    return _yaml_files(found, data_dir, shown_dir, table, issues)


def max_file_bytes(instance: TableRows) -> int:
    """The instance's max_file_bytes setting as written, or the default."""
    if instance.rows:
        value = instance.rows[0].get("max_file_bytes")
        if value and value.isascii() and value.isdigit():
            # Validation reports a value out of range; past Python's int_max_str_digits,
            # int() would raise instead.
            with contextlib.suppress(ValueError):
                return int(value)
    return DEFAULT_MAX_FILE_BYTES


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run a block without the cyclic garbage collector.

    Loading and validating build millions of small objects without reference cycles; the
    collector traverses every live object again and again as they pile up (at 100,000
    stories, half of all the time). Reference counting still frees everything. At the end,
    the objects alive are frozen (gc.freeze) before the collector is enabled again: else its
    first collection would traverse all of them at once (seconds at 100,000 stories).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def load_dataset(
    data_dir: Path,
    only: Iterable[str] | None = None,
    cache_dir: Path | None = None,
    derive: Derive | None = None,
) -> Dataset:
    """Read every table of data/ (or, with only, those record files plus all CSV tables).

    With cache_dir (and without only), files whose stat is unchanged since an earlier load
    are not read again: their digests, parses and derived values come from the snapshot
    (see pipelines.snapshot). With derive, its values for the rows of record files are
    computed where the files are read and kept as Dataset.derived.
    """
    with paused_gc():
        return _load_dataset(data_dir, only, cache_dir, derive)


def _load_dataset(
    data_dir: Path, only: Iterable[str] | None, cache_dir: Path | None, derive: Derive | None
) -> Dataset:
    package = read_source_package(data_dir)
    shown_dir = display_path(data_dir)
    issues: list[ReadIssue] = []
    files: list[str] = []
    tables: dict[str, TableRows] = {t.name: TableRows(t) for t in package.tables}
    derived: dict[str, list[Any]] = {}
    wanted = None if only is None else {Path(p).resolve() for p in only}
    content: list[tuple[str, bytes]] = []
    # Files read now, with the signatures to record for them once the snapshot is open.
    read_whole: list[tuple[str, Signature | None, bytes]] = []

    optional = {
        resource.get("name")
        for resource in package.descriptor.get("resources", [])
        if resource.get("feedback:optional") is True
    }
    for table in package.tables:
        if table.format == "csv":
            tables[table.name], read = read_csv_table(
                data_dir, shown_dir, table, issues, table.name in optional
            )
            files.extend(read)
            if read:
                content.append(
                    (read[0], _recorded_digest(data_dir / table.path, read[0], read_whole))
                )

    instance = package.table("instance")
    instance_path = data_dir / instance.path
    shown_instance = f"{shown_dir}/{instance.path}"
    if instance_path.is_file():
        files.append(shown_instance)
        content.append(
            (shown_instance, _recorded_digest(instance_path, shown_instance, read_whole))
        )
        parsed, found = read_record_file(
            instance_path.read_bytes(), shown_instance, instance, [], DEFAULT_MAX_FILE_BYTES
        )
        issues.extend(found)
        if parsed:
            tables["instance"].add(parsed[0], parsed[1])
    else:
        issues.append(
            ReadIssue(shown_instance, 0, 0, "missing-file", instance.path, table="instance")
        )
    max_bytes = max_file_bytes(tables["instance"])

    # A load of some files only (--since) reads too few to gain from the snapshot.
    snapshot = (
        None
        if cache_dir is None or wanted is not None
        else Snapshot.open(
            cache_dir, data_dir, snapshot_fingerprint(package, max_bytes, shown_dir, derive)
        )
    )
    if snapshot is not None:
        for shown, stat, digest in read_whole:
            snapshot.record(shown, stat, digest)
    for table in package.tables:
        if not table.is_file_per_record:
            continue
        shape = RecordShape.of(table, package.children(table.name))
        listed = (
            _record_file_names(data_dir, shown_dir, table, issues)
            if wanted is None
            else _wanted_file_names(data_dir, shown_dir, table, wanted, issues)
        )
        files.extend(shown for _, shown in listed)
        rows = tables[table.name]
        values = derived.setdefault(table.name, []) if derive is not None else None
        for shown, (parsed, found), digest, value in read_record_files(
            listed, shape, max_bytes, snapshot, derive
        ):
            content.append((shown, digest))
            issues.extend(found)
            if parsed is None:
                continue
            row, location, child_rows = parsed
            rows.add(row, location)
            if values is not None:
                values.append(value)
            for name, pairs in child_rows.items():
                child_table = tables[name]
                for child_row, child_location in pairs:
                    child_table.add(child_row, child_location)
    if snapshot is not None:
        snapshot.save()
        log.info(
            "%d files unchanged since the snapshot were not read; %d read with libyaml, "
            "%d of them parsed again",
            snapshot.unchanged_files,
            snapshot.libyaml_reads + snapshot.same_bytes_files,
            snapshot.libyaml_reads,
        )
    log.info("read %d files from %s", len(files), shown_dir)
    return Dataset(data_dir, shown_dir, package, tables, issues, files, _total(content), derived)


def _total(content: list[tuple[str, bytes]]) -> str:
    total = hashlib.sha256()
    for shown, digest in content:
        # surrogateescape: a file name that is not UTF-8 is still hashed, never a crash
        total.update(shown.encode("utf-8", "surrogateescape") + b"\0" + digest)
    return total.hexdigest()


def _file_digest(path: str | Path) -> bytes:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).digest()


def _recorded_digest(
    path: Path, shown: str, read_whole: list[tuple[str, Signature | None, bytes]]
) -> bytes:
    """The file's sha256, noted in read_whole with its settled signature (stat'ed first)."""
    stat_at = time.time_ns()
    found = settled(signature(path), stat_at)
    digest = _file_digest(path)
    read_whole.append((shown, found, digest))
    return digest


def input_digest(data_dir: Path, cache_dir: Path | None = None) -> str:
    """The digest load_dataset gives as Dataset.digest, from reading bytes only (no parsing).

    With cache_dir, a file whose stat is as the snapshot recorded it is not read: its
    recorded digest is used.
    """
    package = read_source_package(data_dir)
    shown_dir = display_path(data_dir)
    known = {} if cache_dir is None else known_digests(cache_dir, data_dir)

    def digest(path: str | Path, shown: str) -> bytes:
        return digest_if_unchanged(known, shown, path) or _file_digest(path)

    content = [
        (f"{shown_dir}/{table.path}", digest(data_dir / table.path, f"{shown_dir}/{table.path}"))
        for table in package.tables
        if table.format == "csv" and (data_dir / table.path).is_file()
    ]
    instance = package.table("instance")
    if (data_dir / instance.path).is_file():
        shown = f"{shown_dir}/{instance.path}"
        content.append((shown, digest(data_dir / instance.path, shown)))
    for table in package.tables:
        if table.is_file_per_record:
            content.extend(
                (shown, digest(path, shown))
                for path, shown in _record_file_names(data_dir, shown_dir, table, [])
            )
    return _total(content)
