"""What an export published: its files with sizes and checksums, its version and changelog.

Written as manifest.json beside the package and read back by the data page; this module
imports no heavy library, so the website stage can use it cheaply.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
DESCRIPTOR = "datapackage.json"
CHECKSUMS = "SHA256SUMS"
CSV_NOTE = (
    "In the CSV files, a text cell that starts with =, +, -, @, a tab or a carriage return "
    "has a single quote (') put in front of it, so spreadsheets show it as text instead of "
    "running it as a formula (OWASP's CSV injection guidance); maxLength allows for that "
    "quote. The JSON, Parquet and SQLite files hold the exact text."
)
FICTIONAL_NOTE = (
    "This is a fictional demonstration dataset: every provider, person and story in it is "
    "invented, and no story is about a real provider."
)


@dataclass(frozen=True)
class Download:
    """One published file."""

    path: str  # relative to the package folder, forward slashes
    title: str
    format: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Version:
    """One entry of the changelog: a release and what changed since the one before."""

    version: str
    date: str
    published: int
    withdrawn_total: int
    added: int
    withdrawn: int
    edited: int
    tag: str | None = None  # the git tag of a release; None for the current build


@dataclass(frozen=True)
class DataRelease:
    """The export as the site shows it."""

    name: str
    version: str
    created: str
    downloads: tuple[Download, ...]
    versions: tuple[Version, ...]
    descriptor: dict[str, Any]  # the published datapackage.json

    def download(self, path: str) -> Download:
        for item in self.downloads:
            if item.path == path:
                return item
        raise KeyError(path)


def dump_json(value: Any) -> bytes:
    """JSON as the project writes it: sorted keys, UTF-8, two-space indent, final newline."""
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def manifest_of(release: DataRelease) -> dict[str, Any]:
    """The manifest.json content: everything but the descriptor, which is its own file."""
    return {
        "name": release.name,
        "version": release.version,
        "created": release.created,
        "downloads": [asdict(d) for d in release.downloads],
        "versions": [asdict(v) for v in release.versions],
    }


def read_release(folder: Path) -> DataRelease:
    """Read manifest.json and datapackage.json from an exported package folder."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    descriptor = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    return DataRelease(
        name=manifest["name"],
        version=manifest["version"],
        created=manifest["created"],
        downloads=tuple(Download(**d) for d in manifest["downloads"]),
        versions=tuple(Version(**v) for v in manifest["versions"]),
        descriptor=descriptor,
    )
