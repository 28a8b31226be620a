"""Load data/: every table's rows as the text contributors wrote, and where each value came from.

Loading never judges values (that is validation's job) and never fails on contributor
input: what cannot be read becomes a ReadIssue, kept with the Dataset.
"""

from __future__ import annotations

import csv
import functools
import gc
import hashlib
import io
import json
import logging
import marshal
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.package import SourcePackage, Table, read_source_package
from pipelines.readpool import map_chunks
from pipelines.yamlfile import Mapping, Sequence, Value, parse_simple_yaml, parse_yaml

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 65536
# Where the CLI keeps caches between runs (git-ignored; `make clean` removes it).
DEFAULT_CACHE_DIR = Path(".cache")
YAML_SUFFIX = ".yaml"

Row = dict[str, str | None]
# What a later stage computes from record rows as written, file by file, while they are read
# (on every core for a large commons): given one table's rows, one plain (marshal-able) value
# per row. validate's per-file checks are one.
Derive = Callable[[Table, list[Row]], list[Any]]


@dataclass(frozen=True)
class Location:
    """Where one row came from: its file, its first line, and each field's name and line there."""

    path: str
    line: int
    fields: dict[str, tuple[str, int]] = field(default_factory=dict)

    def of(self, name: str) -> tuple[str, int]:
        """The dotted name as the contributor wrote it, and its line."""
        return self.fields.get(name, (name, self.line))


@dataclass(frozen=True)
class ReadIssue:
    """Something that stopped a file or value being read as plain data."""

    path: str
    line: int
    column: int
    code: str
    detail: str
    field: str = ""
    table: str = ""


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


def decode(raw: bytes, path: str, issues: list[ReadIssue], table: str = "") -> str | None:
    """The file's text, or None (with an issue) when it is not UTF-8 text."""
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        issues.append(ReadIssue(path, line, 0, "nul-byte", "a NUL byte", table=table))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        issues.append(
            ReadIssue(path, 1, 1, "byte-order-mark", "a byte order mark (BOM)", table=table)
        )
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        issues.append(
            ReadIssue(path, line, 0, "not-utf8", f"the byte 0x{raw[error.start]:02x}", table=table)
        )
        return None


def _scalar_or_issue(
    value: Value, path: str, name: str, line: int, issues: list[ReadIssue], table: str
) -> str | None:
    if isinstance(value, Mapping | Sequence):
        shape = "a list" if isinstance(value, Sequence) else "a set of keys"
        issues.append(ReadIssue(path, value.line, 0, "wrong-shape", shape, name, table))
        return None
    return value


def _list_items(value: Value) -> list[tuple[Value, int]]:
    if isinstance(value, Sequence):
        return list(zip(value.items, value.item_lines, strict=True))
    return []


@dataclass(frozen=True)
class RecordShape:
    """What reading a table's record files needs from its schema, worked out once per table."""

    table: Table
    children: tuple[Table, ...]
    field_names: tuple[str, ...]
    names: frozenset[str]
    prefixes: frozenset[str]
    by_key: dict[str, Table]
    parent_key: str

    @classmethod
    def of(cls, table: Table, children: Iterable[Table]) -> RecordShape:
        names = tuple(table.field_names)
        children = tuple(children)
        return cls(
            table,
            children,
            names,
            frozenset(names),
            frozenset(name.rsplit(".", 1)[0] for name in names if "." in name),
            {child.key: child for child in children if child.key},
            table.primary_key[0] if table.primary_key else names[0],
        )


def flatten_record(
    root: Value,
    path: str,
    table: Table,
    children: list[Table],
    issues: list[ReadIssue],
    shape: RecordShape | None = None,
) -> tuple[Row, Location, dict[str, list[tuple[Row, Location]]]] | None:
    """One record file's row, its Location and its child tables' rows; None if not a mapping."""
    if not isinstance(root, Mapping):
        got = (
            "a list"
            if isinstance(root, Sequence)
            else ("an empty file" if root is None else "a single value")
        )
        issues.append(ReadIssue(path, 1, 0, "not-a-mapping", got, table=table.name))
        return None
    if shape is None:
        shape = RecordShape.of(table, children)
    names = shape.names
    prefixes = shape.prefixes
    by_key = shape.by_key
    row: Row = dict.fromkeys(shape.field_names)
    fields: dict[str, tuple[str, int]] = {}
    nested: dict[str, tuple[Value, int]] = {}

    def walk(mapping: Mapping, prefix: str) -> None:
        for key, value in mapping.items.items():
            name = f"{prefix}{key}" if prefix else key
            line = mapping.key_lines[key]
            if name in names:
                if isinstance(value, str) or value is None:
                    row[name] = value
                else:
                    row[name] = _scalar_or_issue(value, path, name, line, issues, table.name)
                fields[name] = (name, line)
            elif name in prefixes:
                if isinstance(value, Mapping):
                    walk(value, f"{name}.")
                elif value is not None:
                    issues.append(
                        ReadIssue(path, line, 0, "wrong-shape", "a single value", name, table.name)
                    )
            elif not prefix and key in by_key:
                nested[key] = (value, line)
                fields[key] = (key, line)
            else:
                issues.append(ReadIssue(path, line, 0, "unknown-field", key, name, table.name))

    walk(root, "")
    location = Location(path, root.line, fields)
    child_rows: dict[str, list[tuple[Row, Location]]] = {child.name: [] for child in shape.children}
    parent_id = row.get(shape.parent_key)
    for key, (value, key_line) in nested.items():
        child = by_key[key]
        child_rows[child.name] = _child_rows(child, key, value, key_line, parent_id, path, issues)
    return row, location, child_rows


def _child_rows(
    child: Table,
    key: str,
    value: Value,
    key_line: int,
    parent_id: str | None,
    path: str,
    issues: list[ReadIssue],
) -> list[tuple[Row, Location]]:
    names = child.field_names
    parent_field = names[0]
    out: list[tuple[Row, Location]] = []

    def add(values: dict[str, str | None], shown: str, line: int) -> None:
        row: Row = {parent_field: parent_id, **values}
        fields = dict.fromkeys(values, (shown, line))
        fields[parent_field] = ("id", 1)
        out.append((row, Location(path, line, fields)))

    if value is None:
        return out
    if child.layout == "mapping":
        if not isinstance(value, Mapping):
            issues.append(
                ReadIssue(path, key_line, 0, "wrong-shape", _shape(value), key, child.name)
            )
            return out
        for name, item in value.items.items():
            line = value.key_lines[name]
            shown = f"{key}.{name}"
            add(
                {
                    names[1]: name,
                    names[2]: _scalar_or_issue(item, path, shown, line, issues, child.name),
                },
                shown,
                line,
            )
    elif child.layout == "mapping-of-lists":
        if not isinstance(value, Mapping):
            issues.append(
                ReadIssue(path, key_line, 0, "wrong-shape", _shape(value), key, child.name)
            )
            return out
        for name, items in value.items.items():
            line = value.key_lines[name]
            shown = f"{key}.{name}"
            entries = (
                _list_items(items)
                if isinstance(items, Sequence)
                else ([(items, line)] if items is not None else [])
            )
            for item, item_line in entries:
                add(
                    {
                        names[1]: name,
                        names[2]: _scalar_or_issue(
                            item, path, shown, item_line, issues, child.name
                        ),
                    },
                    shown,
                    item_line,
                )
    elif child.layout == "list":
        entries = _list_items(value) if isinstance(value, Sequence) else [(value, key_line)]
        for item, item_line in entries:
            add(
                {names[1]: _scalar_or_issue(item, path, key, item_line, issues, child.name)},
                key,
                item_line,
            )
    return out


def _shape(value: Value) -> str:
    if isinstance(value, Sequence):
        return "a list"
    if isinstance(value, Mapping):
        return "a set of keys"
    return "a single value"


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
    found: list[str] = []
    for parent, _dirs, names in os.walk(folder):
        relative = os.path.relpath(parent, data_dir).replace(os.sep, "/")
        found.extend(f"{relative}/{name}" for name in names if not name.startswith("."))
    # The order of sorted(Path.rglob()): by path parts, not by the joined string.
    found.sort(key=lambda name: name.split("/"))
    out = []
    for name in found:
        shown = f"{shown_dir}/{name}"
        base = name.rsplit("/", 1)[-1]
        suffix = os.path.splitext(base)[1]
        if suffix != YAML_SUFFIX:
            issues.append(
                ReadIssue(shown, 0, 0, "wrong-file-type", suffix or base, table=table.name)
            )
            continue
        out.append((os.path.join(data_dir, name), shown))
    return out


Parsed = tuple[Row, Location, dict[str, list[tuple[Row, Location]]]]


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
    out = []
    for name in found:
        shown = f"{shown_dir}/{name}"
        suffix = os.path.splitext(name)[1]
        if suffix != YAML_SUFFIX:
            issues.append(
                ReadIssue(
                    shown,
                    0,
                    0,
                    "wrong-file-type",
                    suffix or name.rsplit("/", 1)[-1],
                    table=table.name,
                )
            )
            continue
        out.append((os.path.join(data_dir, name), shown))
    return out


def read_record_file(
    raw: bytes,
    shown: str,
    table: Table,
    children: list[Table],
    max_bytes: int,
    shape: RecordShape | None = None,
) -> tuple[Parsed | None, list[ReadIssue]]:
    """Parse one YAML record file: a pure function of its bytes, so its result can be cached."""
    issues: list[ReadIssue] = []
    if len(raw) > max_bytes:
        issues.append(
            ReadIssue(shown, 0, 0, "file-too-large", f"{len(raw)} bytes", table=table.name)
        )
        return None, issues
    text = decode(raw, shown, issues, table.name)
    if text is None:
        return None, issues
    root, yaml_issues = parse_yaml(text)
    issues.extend(
        ReadIssue(shown, i.line, i.column, i.code, i.detail, i.field, table.name)
        for i in yaml_issues
    )
    if any(i.code in ("yaml-syntax", "yaml-anchor", "nesting-too-deep") for i in yaml_issues):
        return None, issues
    return flatten_record(root, shown, table, children, issues, shape), issues


def _read_simple(
    raw: bytes, shown: str, shape: RecordShape, max_bytes: int
) -> tuple[Parsed | None, list[ReadIssue]] | None:
    """read_record_file for a file in the simple subset of YAML (most are); None for any other."""
    if len(raw) > max_bytes or b"\x00" in raw:
        return None
    issues: list[ReadIssue] = []
    text = decode(raw, shown, issues, shape.table.name)
    if text is None:
        return None
    root = parse_simple_yaml(text)
    if root is None:
        return None
    return flatten_record(root, shown, shape.table, [], issues, shape), issues


def max_file_bytes(instance: TableRows) -> int:
    """The instance's max_file_bytes setting as written, or the default."""
    if instance.rows:
        value = instance.rows[0].get("max_file_bytes")
        if value and value.isdigit():
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

    With cache_dir, record files whose bytes are unchanged since an earlier run are not
    parsed again (see ParseCache). With derive, its values for the rows of record files are
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
                    (read[0], hashlib.sha256((data_dir / table.path).read_bytes()).digest())
                )

    instance = package.table("instance")
    instance_path = data_dir / instance.path
    shown_instance = f"{shown_dir}/{instance.path}"
    if instance_path.is_file():
        files.append(shown_instance)
        content.append((shown_instance, hashlib.sha256(instance_path.read_bytes()).digest()))
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

    cache = (
        None
        if cache_dir is None
        else ParseCache.open(cache_dir, data_dir, _fingerprint(package, max_bytes, shown_dir))
    )
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
        for shown, (parsed, found), digest, value in _read_record_files(
            listed, shape, max_bytes, cache, derive
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
    if cache is not None:
        cache.save(complete=wanted is None)
        log.info(
            "read %d files with libyaml; %d unchanged ones came from the cache",
            cache.misses,
            cache.hits,
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


def input_digest(data_dir: Path) -> str:
    """The digest load_dataset gives as Dataset.digest, from reading bytes only (no parsing)."""
    package = read_source_package(data_dir)
    shown_dir = display_path(data_dir)
    content = [
        (f"{shown_dir}/{table.path}", _file_digest(data_dir / table.path))
        for table in package.tables
        if table.format == "csv" and (data_dir / table.path).is_file()
    ]
    instance = package.table("instance")
    if (data_dir / instance.path).is_file():
        content.append((f"{shown_dir}/{instance.path}", _file_digest(data_dir / instance.path)))
    for table in package.tables:
        if table.is_file_per_record:
            content.extend(
                (shown, _file_digest(path))
                for path, shown in _record_file_names(data_dir, shown_dir, table, [])
            )
    return _total(content)


# --- The parse cache -------------------------------------------------------------------
#
# Nearly every record file is in the simple subset of YAML that yamlfile.parse_simple_yaml
# reads in tens of microseconds: reading such a file again is cheaper than looking it up.
# The others go through libyaml (ten times slower), so their parses are kept between runs:
# the cache maps each such file to the sha256 of its bytes and its parse, in one marshal
# file (marshal builds only plain values, never objects or code, so a tampered cache cannot
# run anything). The whole cache is keyed by a fingerprint of the schemas, the size limit
# and this code: any change there, or a corrupt file, and the cache is ignored.

CACHE_FORMAT = 2

Packed = tuple[Any, ...]


def _fingerprint(package: SourcePackage, max_bytes: int, shown_dir: str) -> str:
    """What a file's parse depends on besides its own bytes."""
    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}\0{sys.version}\0{max_bytes}\0{shown_dir}\0".encode())
    for module in (__file__, sys.modules[parse_yaml.__module__].__file__ or ""):
        digest.update(Path(module).read_bytes())
    tables = [
        [t.name, t.path, t.format, t.part_of, t.key, t.layout, t.schema] for t in package.tables
    ]
    digest.update(json.dumps(tables, sort_keys=True).encode())
    return digest.hexdigest()


def _pack(parsed: Parsed | None, issues: list[ReadIssue]) -> Packed:
    """A parse as plain values (marshal-able), without the path every part of it shares."""
    found = [(i.line, i.column, i.code, i.detail, i.field, i.table) for i in issues]
    if parsed is None:
        return (None, found)
    row, location, child_rows = parsed
    children = {
        name: [(child_row, loc.line, loc.fields) for child_row, loc in rows]
        for name, rows in child_rows.items()
    }
    return ((row, location.line, location.fields, children), found)


def _unpack(packed: Packed, shown: str) -> tuple[Parsed | None, list[ReadIssue]]:
    parsed, found = packed
    issues = [ReadIssue(shown, *issue) for issue in found]
    if parsed is None:
        return None, issues
    row, line, fields, children = parsed
    child_rows = {
        name: [
            (child_row, Location(shown, child_line, child_fields))
            for child_row, child_line, child_fields in rows
        ]
        for name, rows in children.items()
    }
    return (row, Location(shown, line, fields), child_rows), issues


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
    """Whether a cached parse has the shape _unpack expects (a damaged entry is not used)."""
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


# Above this many files, they are read on every core (see readpool): workers read and
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
        simple = _read_simple(raw, shown, shape, max_bytes)
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
            None if simple is None else _pack(*simple),
            next(values) if simple and simple[0] else None,
        )
        for digest, simple in read
    ]


def _read_record_files(
    listed: list[tuple[str, str]],
    shape: RecordShape,
    max_bytes: int,
    cache: ParseCache | None,
    derive: Derive | None = None,
) -> Iterator[tuple[str, tuple[Parsed | None, list[ReadIssue]], bytes, Any]]:
    """Each file's parse, sha256 and derived value, in the order given: read simply (on every
    core when many), from the cache, or by libyaml."""
    children = list(shape.children)
    job = functools.partial(_read_chunk, shape=shape, max_bytes=max_bytes, derive=derive)
    results = map_chunks(job, listed, READ_CHUNK, PARALLEL_READ_MIN)
    for (path, shown), (digest, packed, value) in zip(listed, results, strict=True):
        if packed is not None:
            yield shown, _unpack(packed, shown), digest, value
            continue
        cached = cache.get(shown, digest) if cache is not None else None
        if cached is not None:
            result = _unpack(cached, shown)
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
            result = read_record_file(raw, shown, shape.table, children, max_bytes, shape)
            if cache is not None:
                cache.put(shown, digest, _pack(*result))
        parsed = result[0]
        value = _derived(derive, shape.table, [parsed[0]])[0] if parsed else None
        yield shown, result, digest, value
