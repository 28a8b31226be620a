"""The data page at /data/: downloads, data dictionary, licences, citation, versions, examples.

Everything on it comes from the export that the build wrote just before the site: its
manifest (files, sizes, checksums, versions) and its datapackage.json, itself generated
from the schemas in data/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipelines.export.release import CSV_NOTE, DataRelease, Download
from pipelines.package import constraint_words
from pipelines.records import Instance
from pipelines.website.model import Page, SiteModel

FOLDER = "data/"


@dataclass(frozen=True)
class FieldEntry:
    name: str
    title: str
    kind: str  # the Table Schema type, with its format if any
    constraints: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class TableEntry:
    name: str
    title: str
    description: str
    licence: dict[str, str]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[str, ...]
    fields: tuple[FieldEntry, ...]
    files: tuple[Download, ...]  # CSV, JSON, Parquet


def human_size(size: int) -> str:
    """A file size as people read it: 940 bytes, 12.5 kB, 3.1 MB (powers of 1000)."""
    if size < 1000:
        return f"{size} bytes"
    value = size / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def dictionary(release: DataRelease) -> list[TableEntry]:
    """Every published table and field, read from the published datapackage.json."""
    entries = []
    for resource in release.descriptor["resources"]:
        schema = resource["schema"]
        name = resource["name"]
        files = tuple(
            release.download(path)
            for path in (f"{name}.csv", f"json/{name}.json", f"parquet/{name}.parquet")
        )
        entries.append(
            TableEntry(
                name=name,
                title=resource.get("title", name),
                description=resource.get("description", ""),
                licence=resource["licenses"][0],
                primary_key=tuple(schema.get("primaryKey", [])),
                foreign_keys=tuple(
                    f"{', '.join(fk['fields'])} → {fk['reference']['resource']}"
                    f" ({', '.join(fk['reference']['fields'])})"
                    for fk in schema.get("foreignKeys", [])
                ),
                fields=tuple(
                    FieldEntry(
                        f["name"],
                        f.get("title", f["name"]),
                        f["type"] + (f" ({f['format']})" if "format" in f else ""),
                        constraint_words(f),
                        f.get("description", ""),
                    )
                    for f in schema["fields"]
                ),
                files=files,
            )
        )
    return entries


def citation(instance: Instance, release: DataRelease) -> str:
    """The dataset as a reference: authors (year). Title [dataset], version. Address."""
    return (
        f"{instance.title} contributors ({release.created[:4]}). {instance.title} "
        f"[dataset], version {release.version}. {instance.site_url}/{FOLDER}"
    )


def examples(instance: Instance, release: DataRelease) -> dict[str, str]:
    """Code that loads this package, with its real addresses."""
    base = f"{instance.site_url}/{FOLDER}"
    pandas = f'''import pandas as pd

base = "{base}"
stories = pd.read_parquet(base + "parquet/stories.parquet")
ratings = pd.read_parquet(base + "parquet/ratings.parquet")

published = stories[stories["status"] == "published"]
overall = ratings[ratings["dimension"] == "overall"]
mean_overall = (
    overall.merge(published, left_on="story", right_on="id")
    .groupby("provider")["score"]
    .agg(["count", "mean"])
)
print(mean_overall.sort_values("count", ascending=False).head())
'''
    datasette = f"""pip install datasette
curl -LO {base}commons.db
curl -LO {base}metadata.json
datasette commons.db --metadata metadata.json
# then open http://127.0.0.1:8001/commons/stories?_search=waiting
"""
    frictionless = f"""pip install frictionless
frictionless validate {base}datapackage.json
"""
    return {"pandas": pandas, "datasette": datasette, "frictionless": frictionless}


def data_pages(model: SiteModel) -> list[Page]:
    """The data page, when the build exported a package to describe."""
    release = model.data_release
    if release is None:
        return []
    instance = model.commons.instance
    tables = dictionary(release)
    in_tables = {f.path for t in tables for f in t.files}
    others = [d for d in release.downloads if d.path not in in_tables]
    licences: dict[str, tuple[dict[str, str], list[str]]] = {}
    for table in tables:
        key = json.dumps(table.licence, sort_keys=True)
        licences.setdefault(key, (table.licence, []))[1].append(table.title)
    return [
        Page(
            f"{FOLDER}index.html",
            "data.html",
            {
                "release": release,
                "downloads": others,
                "tables": tables,
                "sizes": {d.path: human_size(d.bytes) for d in release.downloads},
                "licences": list(licences.values()),
                "citation": citation(instance, release),
                "examples": examples(instance, release),
                "csv_note": CSV_NOTE,
                "data_folder": FOLDER,
            },
        )
    ]
