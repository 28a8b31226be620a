"""Validate a loaded Dataset: schema checks, then every registered rule; build the Commons."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.load import Dataset, ReadIssue, paused_gc
from pipelines.logs import get_logger
from pipelines.package import read_source_package
from pipelines.problems import Problem, Report, quote
from pipelines.records import (
    Commons,
    Dimension,
    Instance,
    ModerationEntry,
    Provider,
    Responder,
    Response,
    Story,
    Term,
    from_row,
)
from pipelines.validate import policy, privacy
from pipelines.validate.changes import ChangeError, ChangeSet, load_since, read_changes
from pipelines.validate.codes import code
from pipelines.validate.corpus import Fingerprint
from pipelines.validate.perfile import file_values
from pipelines.validate.privacy import read_acceptance
from pipelines.validate.rules import Context, did_you_mean, run_rules
from pipelines.validate.schema import check_table

__all__ = [
    "ChangeError",
    "Validation",
    "file_values",
    "policy",
    "privacy",
    "validate_dataset",
    "validate_since",
]

log = get_logger(__name__)


@dataclass(frozen=True)
class Validation:
    """The report, the commons built from the rows that passed their schema (None when the
    instance settings are unusable, or it was not asked for) and the instance settings."""

    report: Report
    commons: Commons | None
    instance: Instance | None = None


def _read_problem(issue: ReadIssue, dataset: Dataset) -> Problem:
    """A problem met while reading a file, in the contributor's terms."""
    where = f" at line {issue.line}, column {issue.column}" if issue.column else ""
    c = issue.code
    field = issue.field or "(file)"
    expected, got, fix = "valid data", quote(issue.detail), code(c).fix
    if c == "yaml-syntax":
        expected, got = "valid YAML", f"{issue.detail}{where}"
    elif c == "duplicate-key":
        expected, got = f'"{issue.detail}" once', f'"{issue.detail}" again'
        fix = f'keep one of the lines starting "{issue.detail}:" and delete the other.'
    elif c == "unknown-field":
        table = dataset.package.table(issue.table) if issue.table else None
        allowed = _allowed_keys(dataset, issue.table, issue.field) if table else []
        hint = did_you_mean(issue.detail, allowed)
        expected = "one of the fields: " + ", ".join(allowed) if allowed else "a known field"
        got = f"{quote(issue.detail)}{hint}"
        fix = (
            f'rename "{issue.detail}" to "{hint.split(chr(34))[1]}".'
            if hint
            else f'remove "{issue.detail}", or correct its name.'
        )
    elif c == "wrong-shape":
        expected = (
            "a single value"
            if issue.detail != "a single value"
            else "a list or a set of keys, as in the template"
        )
        got = issue.detail
    elif c == "missing-column":
        expected, got = f'a column named "{issue.detail}"', "no such column"
        fix = f'add a column named "{issue.detail}" to the header row.'
    elif c == "file-too-large":
        limit = (
            dataset.tables["instance"].rows[0].get("max_file_bytes")
            if dataset.tables["instance"].rows
            else None
        )
        expected = f"at most {limit or 65536} bytes"
        got = issue.detail
    elif c in ("not-utf8", "nul-byte", "byte-order-mark"):
        expected, got = "UTF-8 text", issue.detail
    elif c == "not-a-mapping":
        expected, got = "field: value lines", issue.detail
    elif c == "wrong-file-type":
        expected, got = "a file ending in .yaml", quote(issue.detail)
        fix = "rename the file to end in .yaml, or move it out of the data folder."
    elif c == "nesting-too-deep":
        expected, got = "at most the nesting the template has", f"{issue.detail}{where}"
    elif c == "yaml-anchor":
        expected, got = "plain values", f"an anchor or alias{where}"
    elif c == "yaml-custom-tag":
        expected, got = "plain values without tags", quote(issue.detail)
    elif c == "missing-file":
        expected, got = f"the file {issue.detail}", "no file"
    elif c in ("csv-syntax", "wrong-cell-count"):
        expected, got = "one cell per column", issue.detail
    return Problem(
        issue.path, issue.line, field, c, expected, got, fix[:1].lower() + fix[1:], code(c).severity
    )


def _allowed_keys(dataset: Dataset, table_name: str, field: str) -> list[str]:
    table = dataset.package.table(table_name)
    prefix = field.rsplit(".", 1)[0] + "." if "." in field else ""
    if table.format == "csv":
        return table.field_names
    keys = {
        name[len(prefix) :].split(".")[0] for name in table.field_names if name.startswith(prefix)
    }
    if not prefix:
        keys.update(child.key for child in dataset.package.children(table_name) if child.key)
    return sorted(keys)


def build_instance(typed: dict[str, list[dict[str, Any]]], dataset: Dataset) -> Instance | None:
    """The instance settings; None when they are unusable (a required one is missing or bad)."""
    if not typed.get("instance") or any(
        typed["instance"][0].get(f["name"]) is None
        for f in dataset.package.table("instance").fields
        if f.get("constraints", {}).get("required")
    ):
        return None
    return from_row(Instance, typed["instance"][0])


def build_commons(typed: dict[str, list[dict[str, Any]]], dataset: Dataset) -> Commons | None:
    """Typed records of every table; None when the instance settings are unusable."""
    instance = build_instance(typed, dataset)
    if instance is None:
        return None
    ratings: dict[str, dict[str, int]] = defaultdict(dict)
    for row in typed.get("ratings", []):
        if row.get("dimension") is not None and row.get("score") is not None:
            ratings[row["story"]][row["dimension"]] = row["score"]
    tags: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in typed.get("story-tags", []):
        if row.get("tag") is not None:
            tags[(row["story"], row["kind"])].append(row["tag"])
    confirms: dict[str, list[str]] = defaultdict(list)
    for row in typed.get("confirmations", []):
        if row.get("response") is not None:
            confirms[row["story"]].append(row["response"])
    story_paths = dict(
        zip(
            (r.get("id") for r in dataset.rows("stories")),
            (loc.path for loc in dataset.tables["stories"].locations),
            strict=True,
        )
    )
    response_paths = dict(
        zip(
            (r.get("id") for r in dataset.rows("responses")),
            (loc.path for loc in dataset.tables["responses"].locations),
            strict=True,
        )
    )

    def complete(rows: list[dict[str, Any]], *required: str) -> list[dict[str, Any]]:
        return [r for r in rows if None not in map(r.get, required)]

    stories = [
        from_row(
            Story,
            row,
            path=story_paths[row["id"]],
            ratings=dict(sorted(ratings.get(row["id"], {}).items())),
            good=tuple(tags.get((row["id"], "good"), [])),
            better=tuple(tags.get((row["id"], "better"), [])),
            confirms=tuple(confirms.get(row["id"], [])),
        )
        for row in complete(
            typed.get("stories", []),
            "id",
            "provider",
            "title",
            "experienced",
            "submitted",
            "author.pseudonym",
            "author.role",
            "status",
            "licence",
            "consent",
        )
    ]
    responses = [
        from_row(Response, row, path=response_paths[row["id"]])
        for row in complete(
            typed.get("responses", []), "id", "story", "provider", "responder", "date", "text"
        )
    ]
    return Commons(
        instance=instance,
        areas=tuple(
            sorted(
                (from_row(Term, r) for r in complete(typed.get("areas", []), "id", "name")),
                key=lambda t: t.id,
            )
        ),
        kinds=tuple(
            sorted(
                (
                    from_row(Term, r)
                    for r in complete(typed.get("provider-kinds", []), "id", "name")
                ),
                key=lambda t: t.id,
            )
        ),
        dimensions=tuple(
            from_row(Dimension, r)
            for r in complete(typed.get("dimensions", []), "id", "name", "question")
        ),
        tags=tuple(
            sorted(
                (from_row(Term, r) for r in complete(typed.get("tags", []), "id", "name")),
                key=lambda t: t.id,
            )
        ),
        providers=tuple(
            sorted(
                (
                    from_row(Provider, r)
                    for r in complete(typed.get("providers", []), "id", "name", "kind", "area")
                ),
                key=lambda p: p.id,
            )
        ),
        responders=tuple(
            from_row(Responder, r)
            for r in complete(typed.get("responders", []), "provider", "login", "name")
        ),
        stories=tuple(sorted(stories, key=lambda s: s.id)),
        responses=tuple(sorted(responses, key=lambda r: r.id)),
        moderation=tuple(
            from_row(ModerationEntry, r)
            for r in complete(
                typed.get("moderation", []), "date", "story", "action", "reason", "moderator"
            )
        ),
    )


def validate_dataset(
    dataset: Dataset,
    today: dt.date | None = None,
    options: dict[str, Any] | None = None,
    changes: ChangeSet | None = None,
    known_ids: dict[str, frozenset[str]] | None = None,
    unread: list[Fingerprint] | None = None,
    commons: bool = True,
) -> Validation:
    """Check every table against its schema and every rule; report all problems at once.

    With changes (--since), the change rules run too, known_ids names the record files
    that were not read, so that references to them resolve, and unread gives the published
    stories that were not read, so that new ones are checked for duplicates against them.
    With commons=False, no Commons is built (no rule needs it; at 100,000 stories it costs
    seconds): for a caller that needs only the report and the instance settings.
    """
    with paused_gc():
        return _validate_dataset(dataset, today, options, changes, known_ids, unread, commons)


def _validate_dataset(
    dataset: Dataset,
    today: dt.date | None,
    options: dict[str, Any] | None,
    changes: ChangeSet | None,
    known_ids: dict[str, frozenset[str]] | None,
    unread: list[Fingerprint] | None,
    with_commons: bool,
) -> Validation:
    problems = [_read_problem(issue, dataset) for issue in dataset.issues]
    typed: dict[str, list[dict[str, Any]]] = {}
    for name, rows in dataset.tables.items():
        found, typed[name] = check_table(rows)
        problems.extend(found)
    commons = build_commons(typed, dataset) if with_commons else None
    instance = commons.instance if commons else build_instance(typed, dataset)
    context = Context(
        dataset,
        typed,
        instance,
        commons,
        today or dt.date.today(),
        options or {},
        changes=changes,
        known_ids=known_ids or {},
        unread=unread,
    )
    read_acceptance(context)
    problems.extend(run_rules(context))
    report = Report.of(
        problems, files_checked=len(dataset.files), accepted=context.acceptance.accepted
    )
    return Validation(report, commons, instance)


def validate_since(
    data_dir: Path,
    base: str,
    author: str | None = None,
    today: dt.date | None = None,
    cache_dir: Path | None = None,
    commons: bool = True,
) -> Validation:
    """Validate what changed in data_dir since the git revision base, with the change rules.

    Raises ChangeError when base cannot be read. Problems in files read only for context
    (the stories a changed response answers) are left out: those files did not change.
    """
    package = read_source_package(data_dir)
    changes = read_changes(
        data_dir,
        base,
        author,
        package.table("moderation").path,
        package.table("responders").path,
    )
    loaded = load_since(data_dir, package, changes, cache_dir)
    log.info(
        "checking %d changed files since %s (%d more read for context)",
        len(changes.changed),
        base,
        len(loaded.context_only),
    )
    validation = validate_dataset(
        loaded.dataset,
        today,
        changes=changes,
        known_ids=loaded.known_ids,
        unread=loaded.unread,
        commons=commons,
    )
    report = validation.report
    kept = [p for p in report.problems if p.path not in loaded.context_only]
    files = len(loaded.dataset.files) - len(loaded.context_only)
    return Validation(
        Report.of(kept, files, report.accepted), validation.commons, validation.instance
    )
