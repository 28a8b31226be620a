"""The package's descriptions: datapackage.json (Data Package v2), Datasette's metadata.json, CITATION.cff."""

from __future__ import annotations

import copy
import re
from typing import Any

import yaml

from pipelines.export.release import CSV_NOTE, FICTIONAL_NOTE
from pipelines.export.sqlite import FTS_TABLE, VIEWS
from pipelines.export.tables import DIRECTORY_LICENCE, STORY_LICENCE, PublishedTable, is_free_text
from pipelines.records import Instance

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"


def package_name(instance: Instance) -> str:
    """The package's name: the instance title in lower case with hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", instance.title.lower()).strip("-") or "feedback-commons"


def licences(instance: Instance) -> dict[str, dict[str, str]]:
    """The story licence, and the provider directory's (the story licence unless set)."""
    story = {
        "name": instance.licence,
        "title": instance.licence_title,
        "path": instance.licence_url,
    }
    directory = story
    if instance.directory_licence:
        directory = {
            "name": instance.directory_licence,
            "title": instance.directory_licence_title or instance.directory_licence,
            "path": instance.directory_licence_url or "",
        }
    return {STORY_LICENCE: story, DIRECTORY_LICENCE: {k: v for k, v in directory.items() if v}}


def description_of(instance: Instance) -> str:
    text = instance.description.strip()
    return f"{text} {FICTIONAL_NOTE}" if instance.fictional else text


def csv_field(field: dict[str, Any]) -> dict[str, Any]:
    """The field as its CSV column holds it: room for the spreadsheet-safety quote."""
    out = copy.deepcopy(field)
    limit = out.get("constraints", {}).get("maxLength")
    if is_free_text(out) and limit is not None:
        out["constraints"]["maxLength"] = limit + 1
    return out


def build_descriptor(
    instance: Instance,
    tables: list[PublishedTable],
    files: dict[str, tuple[int, str]],
    version: str,
    created: str,
    schema_version: str,
) -> dict[str, Any]:
    """datapackage.json: one tabular resource per CSV file, with its size and SHA-256."""
    licence = licences(instance)
    repository = f"https://github.com/{instance.repository}"
    resources = []
    for table in tables:
        path = f"{table.name}.csv"
        size, digest = files[path]
        resource: dict[str, Any] = {
            "name": table.name,
            "type": "table",
            "path": path,
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "title": table.title,
            "description": table.description,
            "bytes": size,
            "hash": f"sha256:{digest}",
            "licenses": [licence[table.licence]],
            "schema": {
                "fields": [csv_field(f) for f in table.fields],
                **{k: v for k, v in table.schema.items() if k != "fields"},
            },
        }
        if table.source:
            resource["sources"] = [
                {
                    "title": f"data/{table.source} in {instance.repository}",
                    "path": f"{repository}/tree/{instance.branch}/data/{table.source}",
                }
            ]
        resources.append(resource)
    unique = {item["name"]: item for item in licence.values()}
    return {
        "$schema": PROFILE,
        "name": package_name(instance),
        "title": instance.title,
        "description": f"{description_of(instance)} {CSV_NOTE}",
        "version": version,
        "created": created,
        "homepage": f"{instance.site_url}/data/",
        "keywords": ["public services", "patient experience", "feedback", instance.place],
        "licenses": [unique[name] for name in sorted(unique)],
        "sources": [{"title": instance.repository, "path": repository}],
        "contributors": [
            {"title": f"{instance.title} contributors", "roles": ["creator"]},
        ],
        "feedback:schemaVersion": schema_version,
        "resources": resources,
    }


def datasette_metadata(
    instance: Instance, tables: list[PublishedTable], database: str
) -> dict[str, Any]:
    """metadata.json for `datasette commons.db --metadata metadata.json` (Datasette's documented format)."""
    licence = licences(instance)
    table_meta: dict[str, Any] = {}
    for table in tables:
        meta: dict[str, Any] = {
            "title": table.title,
            "description": table.description,
            "license": licence[table.licence]["name"],
            "columns": {f["name"]: f.get("description", "") for f in table.fields},
        }
        if "path" in licence[table.licence]:
            meta["license_url"] = licence[table.licence]["path"]
        table_meta[table.sql_name] = meta
    stories = table_meta["stories"]
    stories.update(
        {"fts_table": FTS_TABLE, "fts_pk": "rowid", "label_column": "title"},
        facets=["provider", "status", "author_role", "submitted_via"],
        sortable_columns=["id", "submitted", "experienced"],
    )
    table_meta["providers"]["label_column"] = "name"
    table_meta["providers"]["facets"] = ["kind", "area"]
    table_meta["ratings"]["facets"] = ["dimension", "score"]
    table_meta["moderation"]["facets"] = ["action", "reason"]
    for view in VIEWS:
        table_meta[view] = {"description": f"A view: {view.replace('_', ' ')}."}
    table_meta[FTS_TABLE] = {"hidden": True}
    return {
        "title": instance.title,
        "description": description_of(instance),
        "license": licence[STORY_LICENCE]["name"],
        "license_url": licence[STORY_LICENCE]["path"],
        "source": instance.repository,
        "source_url": f"https://github.com/{instance.repository}",
        "databases": {database: {"tables": table_meta}},
    }


def citation_cff(instance: Instance, version: str, created: str) -> bytes:
    """CITATION.cff for this version of the dataset (Citation File Format 1.2.0)."""
    content = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": instance.title,
        "abstract": description_of(instance),
        "authors": [{"name": f"{instance.title} contributors"}],
        "version": version,
        "date-released": created[:10],
        "license": instance.licence,
        "url": f"{instance.site_url}/data/",
        "repository": f"https://github.com/{instance.repository}",
        "keywords": ["public services", "patient experience", "feedback", instance.place],
    }
    text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)
    return text.encode("utf-8")
