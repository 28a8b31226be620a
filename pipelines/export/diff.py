"""`feedback export --diff OLD NEW`: which stories two exported packages add, withdraw and edit."""

from __future__ import annotations

import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.export.release import DESCRIPTOR

# Where a record came from is not part of what it says.
NOT_CONTENT = frozenset({"added_in_commit", "schema_version", "submitted_via"})
PARTS = ("ratings", "story-tags", "confirmations")


class PackageReadError(Exception):
    """A path given to --diff is not an exported package (an operator error)."""


@dataclass(frozen=True)
class PackageDiff:
    old_version: str
    new_version: str
    added: tuple[str, ...]
    withdrawn: tuple[str, ...]
    edited: tuple[str, ...]

    def render(self) -> str:
        lines = [f"from {self.old_version} to {self.new_version}"]
        for label, ids in (
            ("added", self.added),
            ("withdrawn", self.withdrawn),
            ("edited", self.edited),
        ):
            lines.append(f"stories {label}: {len(ids)}")
            lines.extend(f"  {story_id}" for story_id in ids)
        return "\n".join(lines) + "\n"


def _reader(path: Path) -> Any:
    """A function reading a member of the package at path: a folder, its datapackage.json, or a zip."""
    if path.is_file() and path.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise PackageReadError(f"{path} is not a zip file: {error}") from error

        def read_member(name: str) -> bytes:
            try:
                return archive.read(name)
            except KeyError as error:
                raise PackageReadError(f"{path} has no {name}: is it a data package?") from error

        return read_member
    folder = path.parent if path.name == DESCRIPTOR else path

    def read_file(name: str) -> bytes:
        try:
            return (folder / name).read_bytes()
        except OSError as error:
            raise PackageReadError(
                f"{folder / name} cannot be read: pass a folder written by feedback export, "
                "its datapackage.json, or its zip"
            ) from error

    return read_file


def _stories(path: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """The package's version and each story with its ratings, tags and confirmations."""
    read = _reader(path)
    try:
        version = json.loads(read(DESCRIPTOR))["version"]
        rows = json.loads(read("json/stories.json"))
        parts = {name: json.loads(read(f"json/{name}.json")) for name in PARTS}
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise PackageReadError(f"{path} does not hold a readable data package: {error}") from error
    stories = {row["id"]: {k: v for k, v in row.items() if k not in NOT_CONTENT} for row in rows}
    for name, part_rows in parts.items():
        grouped: dict[str, list[Any]] = defaultdict(list)
        for row in part_rows:
            grouped[row["story"]].append(sorted(row.items()))
        for story_id, items in grouped.items():
            if story_id in stories:
                stories[story_id][name] = sorted(items)
    return str(version), stories


def diff_packages(old: Path, new: Path) -> PackageDiff:
    """Stories added, newly withdrawn, and edited (published in both, changed) from old to new."""
    old_version, before = _stories(old)
    new_version, after = _stories(new)

    def withdrawn(row: dict[str, Any]) -> bool:
        return row.get("status") == "withdrawn"

    return PackageDiff(
        old_version,
        new_version,
        tuple(sorted(set(after) - set(before))),
        tuple(
            sorted(
                i for i, row in after.items() if withdrawn(row) and not withdrawn(before.get(i, {}))
            )
        ),
        tuple(
            sorted(
                i
                for i, row in after.items()
                if i in before
                and not withdrawn(row)
                and not withdrawn(before[i])
                and row != before[i]
            )
        ),
    )
