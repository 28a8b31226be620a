"""The published tables: typed Arrow columns built from the Commons, with schemas from data/schemas.

Every field's type, constraints and description come from the source Table Schemas; only
the few fields the export itself adds (tombstone dates, provenance, counts) are described
here, and even their allowed values are read from the source schemas.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import pyarrow as pa

from pipelines.package import SourcePackage, Table
from pipelines.records import Commons, Story, attribute

STORY_LICENCE = "stories"
DIRECTORY_LICENCE = "directory"
DEFAULT_SUBMITTED_VIA = "pull-request"
# A tombstone keeps who and what it was about, and why it went; never its words.
TOMBSTONE_FIELDS = ("id", "provider", "status")

ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "yearmonth": pa.string(),
}


@dataclass(frozen=True)
class Provenance:
    """Where records came from: the commit that added each file, and the schema version."""

    added_in: dict[str, str]  # path relative to the data folder -> commit
    schema_version: str
    shown_dir: str  # how record paths start: the data folder as load named it

    def commit_of(self, record_path: str) -> str | None:
        return self.added_in.get(record_path.removeprefix(self.shown_dir + "/"))


@dataclass(frozen=True)
class PublishedTable:
    """One table of the published package."""

    name: str
    title: str
    description: str
    schema: dict[str, Any]  # Table Schema: fields, primaryKey, foreignKeys
    licence: str  # STORY_LICENCE or DIRECTORY_LICENCE
    data: pa.Table
    source: str | None = None  # the source table's path in data/, for the descriptor's sources

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.schema["fields"])

    @property
    def sql_name(self) -> str:
        return self.name.replace("-", "_")


def is_free_text(field: dict[str, Any]) -> bool:
    """A text field whose values are not fixed by an enum, pattern or format: any cell may start with = + - @."""
    constraints = field.get("constraints", {})
    return (
        field.get("type", "string") == "string"
        and "enum" not in constraints
        and "pattern" not in constraints
        and "format" not in field
    )


def published_field(field: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A source field as published: dotted names become underscores (author.pseudonym: author_pseudonym)."""
    out = copy.deepcopy(field)
    out["name"] = attribute(field["name"])
    out.update(changes)
    return out


def _optional(field: dict[str, Any], note: str) -> dict[str, Any]:
    """The field with required dropped (tombstones leave it empty) and a note saying when."""
    out = copy.deepcopy(field)
    constraints = out.get("constraints", {})
    if constraints.pop("required", False):
        out["description"] = f"{out.get('description', '').rstrip()} {note}".strip()
    if not constraints:
        out.pop("constraints", None)
    return out


def _keys(table: Table, published: set[str]) -> dict[str, Any]:
    keys: dict[str, Any] = {}
    if table.primary_key:
        keys["primaryKey"] = [attribute(name) for name in table.primary_key]
    foreign = [
        {
            "fields": [attribute(name) for name in fk.fields],
            "reference": {
                "resource": fk.resource,
                "fields": [attribute(name) for name in fk.reference_fields],
            },
        }
        for fk in table.foreign_keys
        if fk.resource in published
    ]
    if foreign:
        keys["foreignKeys"] = foreign
    return keys


def _arrow(fields: list[dict[str, Any]], columns: dict[str, list[Any]]) -> pa.Table:
    return pa.table(
        {f["name"]: pa.array(columns[f["name"]], type=ARROW_TYPES[f["type"]]) for f in fields},
    )


def _records_table(
    source: Table, records: tuple[Any, ...], licence: str, published: set[str]
) -> PublishedTable:
    """A table whose rows are records carrying every schema field as an attribute."""
    fields = [published_field(f) for f in source.fields]
    columns = {f["name"]: list(map(attrgetter(f["name"]), records)) for f in fields}
    return PublishedTable(
        source.name,
        source.title,
        source.description,
        {"fields": fields, **_keys(source, published)},
        licence,
        _arrow(fields, columns),
        source.path,
    )


def _provenance_fields(package: SourcePackage) -> dict[str, dict[str, Any]]:
    stories = package.table("stories")
    return {
        "submitted_via": published_field(stories.field("submitted_via")),
        "added_in_commit": {
            "name": "added_in_commit",
            "type": "string",
            "title": "Added in commit",
            "description": "The git commit that added the record's file to the repository. Empty when the file was not yet committed, or the data was exported outside a git checkout.",
            "constraints": {"pattern": "[0-9a-f]{40}"},
        },
        "schema_version": {
            "name": "schema_version",
            "type": "string",
            "title": "Schema version",
            "description": "The version of the source data package (data/datapackage.json) whose schemas the record was validated against.",
            "constraints": {"required": True},
        },
    }


def stories_table(
    commons: Commons, package: SourcePackage, provenance: Provenance, published: set[str]
) -> PublishedTable:
    """Every story: published ones whole, withdrawn ones as tombstones."""
    source = package.table("stories")
    moderation = package.table("moderation")
    extra = _provenance_fields(package)
    withdrawal: dict[str, Any] = {}
    for entry in commons.moderation:
        if entry.action == "withdrawn":
            withdrawal[entry.story] = entry  # the latest entry wins: the log is in date order
    note = "Empty for withdrawn stories."
    fields = [
        published_field(f) if f["name"] in TOMBSTONE_FIELDS else _optional(published_field(f), note)
        for f in source.fields
        if f["name"] != "submitted_via"
    ]
    fields += [
        {
            "name": "withdrawn_on",
            "type": "date",
            "title": "Withdrawn on",
            "description": "The date the story was withdrawn, from the moderation log. Empty while the story is published.",
        },
        published_field(
            moderation.field("reason"),
            name="withdrawal_reason",
            title="Withdrawal reason",
            description="Why the story was withdrawn: a reason code of the moderation log. Empty while the story is published.",
            constraints={"enum": moderation.field("reason")["constraints"]["enum"]},
        ),
        extra["submitted_via"],
        extra["added_in_commit"],
        extra["schema_version"],
    ]
    stories = commons.stories
    kept = set(TOMBSTONE_FIELDS)
    shown = [s.published for s in stories]

    def column(name: str) -> list[Any]:
        values = list(map(attrgetter(name), stories))
        if name in kept:
            return values
        return [value if keep else None for value, keep in zip(values, shown, strict=True)]

    columns = {f["name"]: column(f["name"]) for f in fields[: -len(extra) - 2]}
    gone = [None if keep else withdrawal.get(s.id) for s, keep in zip(stories, shown, strict=True)]
    columns["withdrawn_on"] = [entry.date if entry else None for entry in gone]
    columns["withdrawal_reason"] = [entry.reason if entry else None for entry in gone]
    vias = map(attrgetter("submitted_via"), stories)
    columns["submitted_via"] = [via or DEFAULT_SUBMITTED_VIA for via in vias]
    columns["added_in_commit"] = list(map(provenance.commit_of, map(attrgetter("path"), stories)))
    columns["schema_version"] = [provenance.schema_version] * len(stories)
    return PublishedTable(
        "stories",
        source.title,
        "One row per story. Published stories are whole; a withdrawn story is a tombstone: its id, provider, status, withdrawal date and reason code, without its words.",
        {"fields": fields, **_keys(source, published)},
        STORY_LICENCE,
        _arrow(fields, columns),
        source.path,
    )


def _child_table(
    package: SourcePackage, name: str, rows: list[tuple[Any, ...]], published: set[str]
) -> PublishedTable:
    source = package.table(name)
    fields = [published_field(f) for f in source.fields]
    columns = {f["name"]: [row[i] for row in rows] for i, f in enumerate(fields)}
    return PublishedTable(
        name,
        source.title,
        f"{source.description} Published stories only: a tombstone keeps none.",
        {"fields": fields, **_keys(source, published)},
        STORY_LICENCE,
        _arrow(fields, columns),
        source.path,
    )


def story_parts(
    commons: Commons, package: SourcePackage, published: set[str]
) -> list[PublishedTable]:
    """Ratings (long form), story tags and confirmations of published stories."""
    shown: list[Story] = [s for s in commons.stories if s.published]
    ratings = [(s.id, d, score) for s in shown for d, score in sorted(s.ratings.items())]
    kinds = package.table("story-tags").field("kind")["constraints"]["enum"]
    tags = sorted((s.id, kind, tag) for s in shown for kind in kinds for tag in getattr(s, kind))
    confirmations = sorted((s.id, r) for s in shown for r in s.confirms)
    return [
        _child_table(package, "ratings", ratings, published),
        _child_table(package, "story-tags", tags, published),
        _child_table(package, "confirmations", confirmations, published),
    ]


def responses_tables(
    commons: Commons, package: SourcePackage, provenance: Provenance, published: set[str]
) -> list[PublishedTable]:
    """Responses with provenance, and the changes they record with how often each was confirmed."""
    source = package.table("responses")
    extra = _provenance_fields(package)
    via = copy.deepcopy(extra["submitted_via"])
    via["description"] = (
        "How the response reached the commons: always pull-request, from a login listed for the provider."
    )
    fields = [published_field(f) for f in source.fields]
    responses = commons.responses
    columns = {f["name"]: list(map(attrgetter(f["name"]), responses)) for f in fields}
    columns["submitted_via"] = [DEFAULT_SUBMITTED_VIA] * len(responses)
    columns["added_in_commit"] = [provenance.commit_of(r.path) for r in responses]
    columns["schema_version"] = [provenance.schema_version] * len(responses)
    fields += [via, extra["added_in_commit"], extra["schema_version"]]
    responses_table = PublishedTable(
        "responses",
        source.title,
        "One row per public response from a provider, with where it came from.",
        {"fields": fields, **_keys(source, published)},
        STORY_LICENCE,
        _arrow(fields, columns),
        source.path,
    )
    confirmed = Counter(r for s in commons.stories if s.published for r in s.confirms)
    changed = [r for r in responses if r.change_status]
    change_fields = [
        published_field(
            source.field("id"),
            name="response",
            title="Response",
            description="The response that recorded the change: a response id.",
            constraints={"required": True, "unique": True},
        ),
        published_field(source.field("story")),
        published_field(source.field("provider")),
        published_field(
            source.field("date"), description="The date of the response that recorded the change."
        ),
        published_field(source.field("change.status"), name="status"),
        published_field(source.field("change.summary"), name="summary"),
        {
            "name": "confirmations",
            "type": "integer",
            "title": "Confirmations",
            "description": "How many published stories confirm the change really happened.",
            "constraints": {"required": True, "minimum": 0},
        },
    ]
    change_columns: dict[str, list[Any]] = {
        "response": [r.id for r in changed],
        "story": [r.story for r in changed],
        "provider": [r.provider for r in changed],
        "date": [r.date for r in changed],
        "status": [r.change_status for r in changed],
        "summary": [r.change_summary for r in changed],
        "confirmations": [confirmed.get(r.id, 0) for r in changed],
    }
    refs = [("response", "responses", "id"), ("story", "stories", "id")]
    refs.append(("provider", "providers", "id"))
    changes = PublishedTable(
        "changes",
        "Changes",
        "One row per change a provider recorded in a response (planned or made), with how many later stories confirm it.",
        {
            "fields": change_fields,
            "primaryKey": ["response"],
            "foreignKeys": [
                {"fields": [f], "reference": {"resource": res, "fields": [key]}}
                for f, res, key in refs
            ],
        },
        STORY_LICENCE,
        _arrow(change_fields, change_columns),
        source.path,
    )
    return [responses_table, changes]


def moderation_tables(
    commons: Commons, package: SourcePackage, provenance: Provenance, published: set[str]
) -> list[PublishedTable]:
    """The moderation log as written, and its counts by reason code and action."""
    source = package.table("moderation")
    log_table = _records_table(source, commons.moderation, STORY_LICENCE, published)
    version_field = _provenance_fields(package)["schema_version"]
    log_table = PublishedTable(
        log_table.name,
        log_table.title,
        log_table.description,
        {**log_table.schema, "fields": [*log_table.fields, version_field]},
        log_table.licence,
        log_table.data.append_column(
            "schema_version",
            pa.array([provenance.schema_version] * log_table.data.num_rows, pa.string()),
        ),
        log_table.source,
    )
    reasons = source.field("reason")["constraints"]["enum"]
    actions = source.field("action")["constraints"]["enum"]
    counts = Counter((m.reason, m.action) for m in commons.moderation)
    pairs = [(r, a) for r in reasons for a in actions]
    fields = [
        published_field(source.field("reason")),
        published_field(source.field("action")),
        {
            "name": "count",
            "type": "integer",
            "title": "Count",
            "description": "How many moderation actions of this kind gave this reason.",
            "constraints": {"required": True, "minimum": 0},
        },
    ]
    columns = {
        "reason": [r for r, _ in pairs],
        "action": [a for _, a in pairs],
        "count": [counts.get(p, 0) for p in pairs],
    }
    reasons_table = PublishedTable(
        "moderation-reasons",
        "Moderation by reason",
        "How many moderation actions of each kind gave each reason code, every pair listed, so moderation itself is open to scrutiny.",
        {"fields": fields, "primaryKey": ["reason", "action"]},
        STORY_LICENCE,
        _arrow(fields, columns),
        source.path,
    )
    return [log_table, reasons_table]


PUBLISHED = (
    "areas",
    "provider-kinds",
    "dimensions",
    "tags",
    "providers",
    "stories",
    "ratings",
    "story-tags",
    "confirmations",
    "responses",
    "changes",
    "moderation",
    "moderation-reasons",
)


def build_tables(
    commons: Commons, package: SourcePackage, provenance: Provenance
) -> list[PublishedTable]:
    """Every published table, in the package's order."""
    published = set(PUBLISHED)
    directory = [
        _records_table(package.table("areas"), commons.areas, DIRECTORY_LICENCE, published),
        _records_table(
            package.table("provider-kinds"), commons.kinds, DIRECTORY_LICENCE, published
        ),
        _records_table(
            package.table("dimensions"), commons.dimensions, DIRECTORY_LICENCE, published
        ),
        _records_table(package.table("tags"), commons.tags, DIRECTORY_LICENCE, published),
        _records_table(package.table("providers"), commons.providers, DIRECTORY_LICENCE, published),
    ]
    tables = [
        *directory,
        stories_table(commons, package, provenance, published),
        *story_parts(commons, package, published),
        *responses_tables(commons, package, provenance, published),
        *moderation_tables(commons, package, provenance, published),
    ]
    assert tuple(t.name for t in tables) == PUBLISHED
    return tables
