"""The source data package descriptor in data/: which tables there are, where, and their schemas.

Every field, type, constraint and key is read from the descriptor and its Table Schemas;
no other module restates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DESCRIPTOR = "datapackage.json"


class PackageError(Exception):
    """The data directory or its descriptor is missing or broken (an operator error)."""


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One resource of the source package."""

    name: str
    title: str
    description: str
    path: str  # relative to the data directory: a file, or a folder of YAML files
    format: str  # "csv" or "yaml"
    schema: dict[str, Any]  # the Table Schema descriptor as written
    part_of: str | None = None  # child tables read from a key of each parent file
    key: str | None = None  # that key
    layout: str | None = None  # mapping, mapping-of-lists or list

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.schema["fields"])

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.schema["fields"]]

    def field(self, name: str) -> dict[str, Any]:
        for f in self.schema["fields"]:
            if f["name"] == name:
                return dict(f)
        raise KeyError(name)

    @property
    def primary_key(self) -> tuple[str, ...]:
        pk = self.schema.get("primaryKey", [])
        return (pk,) if isinstance(pk, str) else tuple(pk)

    @property
    def foreign_keys(self) -> list[ForeignKey]:
        return [
            ForeignKey(
                tuple(fk["fields"]) if isinstance(fk["fields"], list) else (fk["fields"],),
                fk["reference"]["resource"],
                tuple(fk["reference"]["fields"])
                if isinstance(fk["reference"]["fields"], list)
                else (fk["reference"]["fields"],),
            )
            for fk in self.schema.get("foreignKeys", [])
        ]

    @property
    def is_file_per_record(self) -> bool:
        return self.format == "yaml" and self.part_of is None and self.path != "instance.yaml"


@dataclass(frozen=True)
class SourcePackage:
    """The descriptor of data/, with every schema resolved."""

    descriptor: dict[str, Any]
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def children(self, parent: str) -> list[Table]:
        return [t for t in self.tables if t.part_of == parent]


def read_source_package(data_dir: Path) -> SourcePackage:
    """Read data/datapackage.json and the schemas it names."""
    path = data_dir / DESCRIPTOR
    if not data_dir.is_dir():
        raise PackageError(
            f"no data directory at {data_dir}: pass --data with the folder that holds {DESCRIPTOR}"
        )
    if not path.is_file():
        raise PackageError(f"{path} is missing: a data directory needs its package descriptor")
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PackageError(f"{path} is not valid JSON: {error}") from error
    tables = []
    for resource in descriptor.get("resources", []):
        schema = resource.get("schema")
        if isinstance(schema, str):
            schema_path = data_dir / schema
            try:
                schema = json.loads(schema_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise PackageError(f"cannot read the schema {schema_path}: {error}") from error
        if not isinstance(schema, dict) or "fields" not in schema:
            raise PackageError(
                f"{path}: resource {resource.get('name')!r} has no Table Schema with fields"
            )
        fmt = resource.get("feedback:format") or Path(resource["path"]).suffix.lstrip(".") or "csv"
        tables.append(
            Table(
                name=resource["name"],
                title=resource.get("title", resource["name"]),
                description=resource.get("description", ""),
                path=resource["path"],
                format=fmt,
                schema=schema,
                part_of=resource.get("feedback:part-of"),
                key=resource.get("feedback:key"),
                layout=schema.get("feedback:layout"),
            )
        )
    return SourcePackage(descriptor, tuple(tables))


def constraint_words(field: dict[str, Any]) -> tuple[str, ...]:
    """A field's constraints in plain words, in a fixed order."""
    c = field.get("constraints", {})
    words = []
    if c.get("required"):
        words.append("required")
    if c.get("unique"):
        words.append("unique")
    if "enum" in c:
        words.append("one of: " + ", ".join(json.dumps(v) for v in c["enum"]))
    if "minLength" in c:
        words.append(f"at least {c['minLength']} characters")
    if "maxLength" in c:
        words.append(f"at most {c['maxLength']} characters")
    if "minimum" in c:
        words.append(f"at least {c['minimum']}")
    if "maximum" in c:
        words.append(f"at most {c['maximum']}")
    if "pattern" in c:
        words.append(f"matches the pattern {c['pattern']}")
    if "format" in field:
        words.append(f"format {field['format']}")
    return tuple(words)
