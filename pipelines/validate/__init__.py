"""Validate a loaded Dataset: schema checks, then every registered rule; build the Commons."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, TypeVar

from pipelines import isolated
from pipelines.isolated import beside, can_fork
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
    from_rows,
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

T = TypeVar("T")

# From this many files, the rules run in a child process while the commons is built: at
# 100,000 stories each takes seconds, and the machine has another core.
RULES_BESIDE_MIN = 20000


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


def _values(rows: list[dict[str, Any]], key: str, *others: str) -> list[tuple[Any, ...]]:
    """Each row's values of key and others: row[key] (a KeyError where it has none, as
    row[key] gives) and None for any of others it has not, as row.get gives."""
    get = itemgetter(key, *others)
    try:
        return list(map(get, rows))  # in C, when every row has every key (as typed rows do)
    except KeyError:
        return [(row[key], *map(row.get, others)) for row in rows]


# Schema types whose typed values plain() keeps as they are (str, int, bool, datetime.date).
_KEPT_TYPES = frozenset({"string", "integer", "boolean", "date"})


def build_commons(typed: dict[str, list[dict[str, Any]]], dataset: Dataset) -> Commons | None:
    """Typed records of every table; None when the instance settings are unusable."""
    instance = build_instance(typed, dataset)
    if instance is None:
        return None
    ratings: dict[str, dict[str, int]] = defaultdict(dict)
    for story, dimension, score in _values(typed.get("ratings", []), "story", "dimension", "score"):
        if dimension is not None and score is not None:
            ratings[story][dimension] = score
    tags: dict[tuple[str, str], list[str]] = defaultdict(list)
    for story, kind, tag in _values(typed.get("story-tags", []), "story", "kind", "tag"):
        if tag is not None:
            tags[(story, kind)].append(tag)
    confirms: dict[str, list[str]] = defaultdict(list)
    for story, response in _values(typed.get("confirmations", []), "story", "response"):
        if response is not None:
            confirms[story].append(response)
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

    def complete(table: str, *required: str) -> list[dict[str, Any]]:
        """The table's typed rows with a value for every required field."""
        rows, has = typed.get(table, []), itemgetter(*required)
        try:
            return [r for r in rows if None not in has(r)]
        except KeyError:  # a row without one of the fields
            return [r for r in rows if None not in map(r.get, required)]

    def records(cls: type[T], table: str, rows: list[dict[str, Any]], **extra: Any) -> list[T]:
        fields = dataset.package.table(table).fields
        as_is = [f["name"] for f in fields if f.get("type", "string") in _KEPT_TYPES]
        return from_rows(cls, rows, as_is, **extra)

    def terms(table: str) -> tuple[Term, ...]:
        found = records(Term, table, complete(table, "id", "name"))
        return tuple(sorted(found, key=attrgetter("id")))

    story_rows = complete(
        "stories",
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
    story_ids = [row["id"] for row in story_rows]
    stories = records(
        Story,
        "stories",
        story_rows,
        path=[story_paths[i] for i in story_ids],
        ratings=[dict(sorted(ratings.get(i, {}).items())) for i in story_ids],
        good=[tuple(tags.get((i, "good"), [])) for i in story_ids],
        better=[tuple(tags.get((i, "better"), [])) for i in story_ids],
        confirms=[tuple(confirms.get(i, [])) for i in story_ids],
    )
    response_rows = complete("responses", "id", "story", "provider", "responder", "date", "text")
    responses = records(
        Response,
        "responses",
        response_rows,
        path=[response_paths[row["id"]] for row in response_rows],
    )
    providers = records(Provider, "providers", complete("providers", "id", "name", "kind", "area"))
    return Commons(
        instance=instance,
        areas=terms("areas"),
        kinds=terms("provider-kinds"),
        dimensions=tuple(
            records(Dimension, "dimensions", complete("dimensions", "id", "name", "question"))
        ),
        tags=terms("tags"),
        providers=tuple(sorted(providers, key=attrgetter("id"))),
        responders=tuple(
            records(Responder, "responders", complete("responders", "provider", "login", "name"))
        ),
        stories=tuple(sorted(stories, key=attrgetter("id"))),
        responses=tuple(sorted(responses, key=attrgetter("id"))),
        moderation=tuple(
            records(
                ModerationEntry,
                "moderation",
                complete("moderation", "date", "story", "action", "reason", "moderator"),
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
    on_commons: Callable[[Commons], object] | None = None,
) -> Validation:
    """Check every table against its schema and every rule; report all problems at once.

    With changes (--since), the change rules run too, known_ids names the record files
    that were not read, so that references to them resolve, and unread gives the published
    stories that were not read, so that new ones are checked for duplicates against them.
    With commons=False, no Commons is built (no rule needs it; at 100,000 stories it costs
    seconds): for a caller that needs only the report and the instance settings.
    With on_commons, it is given the commons as soon as it is built, unless a problem
    found by then is an error, while the rules may still run.
    """
    with paused_gc():
        return _validate_dataset(
            dataset, today, options, changes, known_ids, unread, commons, on_commons
        )


def _validate_dataset(
    dataset: Dataset,
    today: dt.date | None,
    options: dict[str, Any] | None,
    changes: ChangeSet | None,
    known_ids: dict[str, frozenset[str]] | None,
    unread: list[Fingerprint] | None,
    with_commons: bool,
    on_commons: Callable[[Commons], object] | None,
) -> Validation:
    problems = [_read_problem(issue, dataset) for issue in dataset.issues]
    typed: dict[str, list[dict[str, Any]]] = {}
    for name, rows in dataset.tables.items():
        found, typed[name] = check_table(rows)
        problems.extend(found)
    # Freed only with a child process that validates (isolated.outlive): at 100,000 stories,
    # freeing the typed rows cell by cell took a third of a second.
    isolated.outlive(typed)
    instance = build_instance(typed, dataset)
    context = Context(
        dataset,
        typed,
        instance,
        today or dt.date.today(),
        options or {},
        changes=changes,
        known_ids=known_ids or {},
        unread=unread,
    )
    if with_commons and len(dataset.files) >= RULES_BESIDE_MIN and can_fork():
        # No rule reads the commons: the rules run in a forked child while it is built.
        with beside(_checked, context) as checking:
            commons = build_commons(typed, dataset)
            _hand_over(commons, problems, on_commons)
            found, accepted = checking.result()
    else:
        commons = build_commons(typed, dataset) if with_commons else None
        _hand_over(commons, problems, on_commons)
        found, accepted = _checked(context)
    problems.extend(found)
    report = Report.of(problems, files_checked=len(dataset.files), accepted=accepted)
    return Validation(report, commons, commons.instance if commons else instance)


def _hand_over(
    commons: Commons | None,
    problems: list[Problem],
    on_commons: Callable[[Commons], object] | None,
) -> None:
    """Give on_commons the commons, unless an error already means it will not be used."""
    if on_commons is not None and commons is not None:
        if not any(p.severity == "error" for p in problems):
            on_commons(commons)


def _checked(context: Context) -> tuple[list[Problem], list[Problem]]:
    """Every rule's problems, and the findings accepted-findings.csv accepts."""
    read_acceptance(context)
    return run_rules(context), context.acceptance.accepted


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
