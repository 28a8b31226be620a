"""Load data/: every table's rows as the text contributors wrote, and where each value came from.

Loading never judges values (that is validation's job) and never fails on contributor
input: what cannot be read becomes a ReadIssue, kept with the Dataset.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.package import SourcePackage, Table, read_source_package
from pipelines.yamlfile import Mapping, Sequence, Value, parse_yaml

log = logging.getLogger(__name__)

DEFAULT_MAX_FILE_BYTES = 65536
YAML_SUFFIX = ".yaml"

Row = dict[str, str | None]


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


def flatten_record(
    root: Value,
    path: str,
    table: Table,
    children: list[Table],
    issues: list[ReadIssue],
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
    names = set(table.field_names)
    prefixes = {name.rsplit(".", 1)[0] for name in names if "." in name}
    by_key = {child.key: child for child in children}
    row: Row = dict.fromkeys(table.field_names)
    fields: dict[str, tuple[str, int]] = {}
    nested: dict[str, tuple[Value, int]] = {}

    def walk(mapping: Mapping, prefix: str) -> None:
        for key, value in mapping.items.items():
            name = f"{prefix}{key}"
            line = mapping.key_lines[key]
            if name in names:
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
    child_rows: dict[str, list[tuple[Row, Location]]] = {child.name: [] for child in children}
    parent_key = table.primary_key[0] if table.primary_key else table.field_names[0]
    parent_id = row.get(parent_key)
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
    data_dir: Path, shown_dir: str, table: Table, issues: list[ReadIssue]
) -> tuple[TableRows, list[str]]:
    """A CSV table's rows; each row's Location is the line its record starts on."""
    result = TableRows(table)
    path = data_dir / table.path
    shown = f"{shown_dir}/{table.path}"
    if not path.is_file():
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
    folder = data_dir / table.path
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() or path.name.startswith("."):
            continue
        shown = f"{shown_dir}/{path.relative_to(data_dir).as_posix()}"
        if path.suffix != YAML_SUFFIX:
            issues.append(
                ReadIssue(
                    shown, 0, 0, "wrong-file-type", path.suffix or path.name, table=table.name
                )
            )
            continue
        out.append((path, shown))
    return out


def read_record_file(
    raw: bytes, shown: str, table: Table, children: list[Table], max_bytes: int
) -> tuple[tuple[Row, Location, dict[str, list[tuple[Row, Location]]]] | None, list[ReadIssue]]:
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
    return flatten_record(root, shown, table, children, issues), issues


def _max_file_bytes(instance: TableRows) -> int:
    if instance.rows:
        value = instance.rows[0].get("max_file_bytes")
        if value and value.isdigit():
            return int(value)
    return DEFAULT_MAX_FILE_BYTES


def load_dataset(data_dir: Path, only: Iterable[str] | None = None) -> Dataset:
    """Read every table of data/ (or, with only, those record files plus all CSV tables)."""
    package = read_source_package(data_dir)
    shown_dir = display_path(data_dir)
    issues: list[ReadIssue] = []
    files: list[str] = []
    tables: dict[str, TableRows] = {t.name: TableRows(t) for t in package.tables}
    wanted = None if only is None else {Path(p).resolve() for p in only}

    for table in package.tables:
        if table.format == "csv":
            tables[table.name], read = read_csv_table(data_dir, shown_dir, table, issues)
            files.extend(read)

    instance = package.table("instance")
    instance_path = data_dir / instance.path
    shown_instance = f"{shown_dir}/{instance.path}"
    if instance_path.is_file():
        files.append(shown_instance)
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
    max_bytes = _max_file_bytes(tables["instance"])

    for table in package.tables:
        if not table.is_file_per_record:
            continue
        children = package.children(table.name)
        for path, shown in record_files(data_dir, shown_dir, table, issues):
            if wanted is not None and path.resolve() not in wanted:
                continue
            files.append(shown)
            parsed, found = read_record_file(path.read_bytes(), shown, table, children, max_bytes)
            issues.extend(found)
            if parsed is None:
                continue
            row, location, child_rows = parsed
            tables[table.name].add(row, location)
            for name, rows in child_rows.items():
                for child_row, child_location in rows:
                    tables[name].add(child_row, child_location)
    log.info("read %d files from %s", len(files), shown_dir)
    return Dataset(data_dir, shown_dir, package, tables, issues, files)
