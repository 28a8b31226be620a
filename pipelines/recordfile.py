"""One record file (a story, a response): its bytes read as a row, where each value came from,
and the child tables' rows; what cannot be read becomes a ReadIssue. Pure functions of the
file's bytes, so load can run them on every core and cache their results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipelines.package import Table
from pipelines.yamlfile import Mapping, Sequence, Value, parse_simple_yaml, parse_yaml

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


Parsed = tuple[Row, Location, dict[str, list[tuple[Row, Location]]]]


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


def read_simple(
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


Packed = tuple[Any, ...]


def pack_parse(parsed: Parsed | None, issues: list[ReadIssue]) -> Packed:
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


def unpack_parse(packed: Packed, shown: str) -> tuple[Parsed | None, list[ReadIssue]]:
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
