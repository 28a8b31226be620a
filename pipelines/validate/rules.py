"""Rules across fields and files: one small function per rule, registered by name.

An instance adds a rule exactly as ours are added: decorate a function taking a Context
and yielding Problems with `@rule(...)`, naming the codes it can report.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import PurePosixPath
from typing import Any

from pipelines.load import Dataset, Location
from pipelines.problems import Problem, quote
from pipelines.records import Instance
from pipelines.validate.codes import UNKNOWN_REFERENCE, code

TypedRows = dict[str, list[dict[str, Any]]]


AcceptedKey = tuple[str, str, str, str]  # record id, field, code, exact text


@dataclass
class Acceptance:
    """The findings moderators accepted (accepted-findings.csv), and which of them matched."""

    rows: dict[AcceptedKey, Location] = field(default_factory=dict)
    used: set[AcceptedKey] = field(default_factory=set)
    accepted: list[Problem] = field(default_factory=list)

    def accepts(self, found: Problem, record_id: object, field_name: str, text: str) -> bool:
        """True (and the finding kept as accepted) when a row accepts exactly this finding."""
        key = (str(record_id), field_name, found.code, text)
        if key not in self.rows:
            return False
        self.used.add(key)
        self.accepted.append(found)
        return True


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the rows as written and typed, and their locations.

    Not the commons: rules run while it is built (validate_dataset).
    """

    dataset: Dataset
    typed: TypedRows
    instance: Instance | None
    today: Any  # datetime.date: the reference date for "in the future"
    options: dict[str, Any] = field(default_factory=dict)
    acceptance: Acceptance = field(default_factory=Acceptance)
    # In --since mode: what changed (validate.changes.ChangeSet); None in a full validation.
    changes: Any = None
    # Ids of record files that exist but were not loaded (--since), by table: they resolve
    # references without being read.
    known_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    # In --since mode: the published stories not read (validate.corpus.Fingerprint), so that
    # new stories are checked for duplicates against all of them.
    unread: Any = None

    def rows(self, table: str) -> Iterator[tuple[dict[str, Any], dict[str, Any], Location]]:
        """(typed row, row as written, location) for every row of a table."""
        data = self.dataset.tables[table]
        return zip(self.typed.get(table, []), data.rows, data.locations, strict=False)


Rule = Callable[[Context], Iterable[Problem]]


@dataclass(frozen=True)
class RegisteredRule:
    name: str
    codes: tuple[str, ...]
    check: Rule
    last: bool = False  # runs after every other rule (it looks at what they found)


RULES: dict[str, RegisteredRule] = {}


def rule(*codes: str, name: str | None = None, last: bool = False) -> Callable[[Rule], Rule]:
    """Register a rule under its function's name; it may report only the codes it names."""

    def decorate(check: Rule) -> Rule:
        key = name or check.__name__
        for problem_code in codes:
            code(problem_code)  # an unknown code is a bug: fail at import
        RULES[key] = RegisteredRule(key, codes, check, last)
        return check

    return decorate


def did_you_mean(value: object, candidates: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the nearest candidate, or ''."""
    if not isinstance(value, str):
        return ""
    lowered = {c.lower(): c for c in candidates}
    matches = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return f' (did you mean "{lowered[matches[0]]}"?)' if matches else ""


def problem(
    location: Location, field_name: str, problem_code: str, expected: str, got: str, fix: str
) -> Problem:
    shown, line = location.of(field_name)
    return Problem(
        location.path, line, shown, problem_code, expected, got, fix, code(problem_code).severity
    )


def _key_values(ctx: Context, table: str, names: tuple[str, ...]) -> list[Any]:
    """Each row's key: its typed value, or as written where that broke its schema (so one bad
    id is reported once, not again at every reference to it); a tuple for a key of several
    fields, a plain value for one (cheaper at hundreds of thousands of rows)."""
    typed_rows = ctx.typed.get(table, [])
    written_rows = ctx.dataset.tables[table].rows
    typed_values = _column(typed_rows, names)
    # Most often no typed value is missing: the typed values are the keys.
    if typed_values is not None and len(typed_rows) <= len(written_rows):
        flat = chain.from_iterable(typed_values) if len(names) > 1 else typed_values
        if None not in flat:
            return typed_values
    if len(names) == 1:
        (name,) = names
        out = []
        for typed, written in zip(typed_rows, written_rows, strict=False):
            value = typed.get(name)
            out.append(written.get(name) if value is None else value)
        return out
    out = []
    for typed, written in zip(typed_rows, written_rows, strict=False):
        key = tuple(map(typed.get, names))  # map over a bound method: no Python frame per field
        if None in key:
            key = tuple(
                written.get(f) if value is None else value
                for f, value in zip(names, key, strict=True)
            )
        out.append(key)
    return out


def _column(rows: list[dict[str, Any]], names: tuple[str, ...]) -> list[Any] | None:
    """Each row's value of the one name, or tuple of values of the names, got in C; None
    when a row lacks one of them (the caller then uses .get, row by row)."""
    try:
        return list(map(itemgetter(*names), rows))
    except KeyError:
        return None


@rule(*sorted(set(UNKNOWN_REFERENCE.values())))
def references(ctx: Context) -> Iterator[Problem]:
    """Every foreign key in the schemas resolves to a row of the table it names."""
    package = ctx.dataset.package
    keys: dict[tuple[str, tuple[str, ...]], set[Any]] = {}
    for table in package.tables:
        for fk in table.foreign_keys:
            index = (fk.resource, fk.reference_fields)
            single = len(fk.fields) == 1
            if index not in keys:
                keys[index] = set(_key_values(ctx, fk.resource, fk.reference_fields))
                if fk.reference_fields == ("id",):
                    keys[index].update(ctx.known_ids.get(fk.resource, ()))
            known = keys[index]
            problem_code = UNKNOWN_REFERENCE[fk.resource]
            shown_table = package.table(fk.resource).path
            values = _key_values(ctx, table.name, fk.fields)
            unknown = set(values) - known
            # A missing value (None) is another rule's problem; only unknown keys are looked for.
            if not any(key is not None and (single or None not in key) for key in unknown):
                continue
            locations = ctx.dataset.tables[table.name].locations
            for key, location in zip(values, locations, strict=False):
                if single:
                    if key is None or key in known:
                        continue
                    value: tuple[Any, ...] = (key,)
                else:
                    if any(v is None for v in key) or key in known:
                        continue
                    value = key
                last = fk.fields[-1]
                candidates = [
                    str(k if single else k[-1]) for k in known if single or k[:-1] == value[:-1]
                ]
                if problem_code == "unknown-responder":
                    got = quote(value[-1])
                    yield problem(
                        location,
                        last,
                        problem_code,
                        f"a login listed in {shown_table} for {quote(value[0])}",
                        got,
                        f"use a login listed for this provider, or ask a maintainer to add {got} to {shown_table}.",
                    )
                    continue
                hint = did_you_mean(value[-1], candidates)
                yield problem(
                    location,
                    last,
                    problem_code,
                    f"an id from {shown_table}",
                    f"{quote(value[-1])}{hint}",
                    f"use an id listed in {shown_table}{hint.replace(' (', ', ').rstrip(')')}.",
                )


@rule("duplicate-id")
def duplicate_ids(ctx: Context) -> Iterator[Problem]:
    """Primary keys are unique across every file of a table."""
    for table in ctx.dataset.package.tables:
        pk = table.primary_key
        if not pk:
            continue
        first: dict[Any, Location] = {}
        typed_rows = ctx.typed.get(table.name, [])
        keys = _column(typed_rows, pk)
        if keys is not None and len(set(keys)) == len(keys):
            continue  # every key differs: no duplicate (found in C: ratings have 300,000)
        if len(pk) == 1:
            values: list[Any] = [typed.get(pk[0]) for typed in typed_rows]
        else:
            values = [tuple(map(typed.get, pk)) for typed in typed_rows]
            # `None in value`: one C loop per key, not a generator (ratings have 500,000)
            values = [None if None in value else value for value in values]
        for value, location in zip(values, ctx.dataset.tables[table.name].locations, strict=False):
            if value is None:
                continue
            if value in first:
                other = first[value]
                shown_value = " ".join(str(v) for v in value) if len(pk) > 1 else str(value)
                yield problem(
                    location,
                    pk[-1],
                    "duplicate-id",
                    f"an id not used elsewhere (already used at {other.path}:{other.line})",
                    quote(shown_value),
                    "give one of the two records a new id, and rename its file to match.",
                )
            else:
                first[value] = location


@rule("id-mismatch", "wrong-folder")
def file_names(ctx: Context) -> Iterator[Problem]:
    """A record file is named after its id, in the folder of its id's year."""
    for table in ctx.dataset.package.tables:
        if not table.is_file_per_record:
            continue
        for typed, written, location in ctx.rows(table.name):
            record_id = written.get("id")
            if not record_id:
                continue
            folder, _, name = location.path.rpartition("/")
            # Plain string operations: PurePosixPath cost a second at 100,000 stories.
            stem = name[: -len(".yaml")] if name.endswith(".yaml") and len(name) > 5 else None
            if stem == record_id and folder.rpartition("/")[2] == record_id[:4]:
                continue
            path = PurePosixPath(location.path)
            if path.stem != record_id:
                yield problem(
                    location,
                    "id",
                    "id-mismatch",
                    f'the file name without .yaml, "{path.stem}"',
                    quote(record_id),
                    f'rename the file to {quote(record_id)[1:-1]}.yaml, or change the id to "{path.stem}".',
                )
            elif typed.get("id") and path.parent.name != record_id[:4]:
                yield problem(
                    location,
                    "id",
                    "wrong-folder",
                    f"the file in the folder {table.path}/{record_id[:4]}/",
                    quote(f"{path.parent.name}/{path.name}"),
                    f"move the file into {table.path}/{record_id[:4]}/.",
                )


@rule("missing-overall-rating")
def overall_rating(ctx: Context) -> Iterator[Problem]:
    """Any rating needs an overall rating too."""
    dimensions: dict[Any, set[Any]] = defaultdict(set)
    pairs = _column(ctx.dataset.rows("ratings"), ("story", "dimension"))
    if pairs is not None:
        # In C: the stories rated, less those with an overall rating; usually none is left.
        stories = set(map(itemgetter(0), pairs))
        if not stories - {story for story, dimension in pairs if dimension == "overall"}:
            return
    for _typed, written, _location in ctx.rows("ratings"):
        dimensions[written.get("story")].add(written.get("dimension"))
    for _typed, written, location in ctx.rows("stories"):
        rated = dimensions.get(written.get("id"))
        if rated and "overall" not in rated:
            yield problem(
                location,
                "ratings",
                "missing-overall-rating",
                "an overall rating from 1 to 5 with the other ratings",
                "no overall rating",
                "add a line overall: with a number from 1 to 5 under ratings.",
            )


@rule(
    "missing-story-text",
    "withdrawn-with-text",
    "withdrawn-without-log",
    "licence-mismatch",
    "experience-after-submission",
)
def story_status(ctx: Context) -> Iterator[Problem]:
    """Published stories have text; withdrawn ones have none and a log entry; one licence for all."""
    withdrawals = {
        written.get("story")
        for _t, written, _l in ctx.rows("moderation")
        if written.get("action") == "withdrawn"
    }
    licence = ctx.instance.licence if ctx.instance else None
    for typed, written, location in ctx.rows("stories"):
        text = (written.get("story") or "").strip()
        if typed.get("status") == "published" and not text:
            yield problem(
                location,
                "story",
                "missing-story-text",
                "the story's text",
                "nothing",
                "add the story text under story: |, or set status to withdrawn.",
            )
        if typed.get("status") == "withdrawn":
            if text:
                yield problem(
                    location,
                    "story",
                    "withdrawn-with-text",
                    "no text in a withdrawn story",
                    quote(text),
                    "remove the story text from the file; git keeps the history.",
                )
            if written.get("id") not in withdrawals:
                yield problem(
                    location,
                    "status",
                    "withdrawn-without-log",
                    "a withdrawal row in moderation.csv for this story",
                    "no entry",
                    "add a row to moderation.csv: the date, this story's id, withdrawn, a reason code and your login.",
                )
        if licence and typed.get("licence") and typed["licence"] != licence:
            yield problem(
                location,
                "licence",
                "licence-mismatch",
                f'"{licence}"',
                quote(typed["licence"]),
                f"set licence to {licence}.",
            )
        experienced, submitted = typed.get("experienced"), typed.get("submitted")
        if experienced and submitted and tuple(experienced) > (submitted.year, submitted.month):
            yield problem(
                location,
                "experienced",
                "experience-after-submission",
                f"a month no later than the submission, {submitted:%Y-%m}",
                quote(written.get("experienced")),
                "correct the month the experience happened, or the submitted date.",
            )


@rule("response-provider-mismatch", "response-before-story")
def response_links(ctx: Context) -> Iterator[Problem]:
    """A response comes from the story's provider, on or after the story's date."""
    stories = {typed.get("id"): typed for typed in ctx.typed.get("stories", [])}
    for typed, _written, location in ctx.rows("responses"):
        story = stories.get(typed.get("story"))
        if story is None:
            continue
        if (
            typed.get("provider")
            and story.get("provider")
            and typed["provider"] != story["provider"]
        ):
            yield problem(
                location,
                "provider",
                "response-provider-mismatch",
                f'the story\'s provider, "{story["provider"]}"',
                quote(typed["provider"]),
                f"set provider to {story['provider']}.",
            )
        if typed.get("date") and story.get("submitted") and typed["date"] < story["submitted"]:
            yield problem(
                location,
                "date",
                "response-before-story",
                f"a date on or after {story['submitted']:%Y-%m-%d}",
                quote(f"{typed['date']:%Y-%m-%d}"),
                "correct the response's date.",
            )


@rule("confirms-without-change")
def confirmations(ctx: Context) -> Iterator[Problem]:
    """A story confirms only a response that recorded a change."""
    changes = {
        typed.get("id") for typed in ctx.typed.get("responses", []) if typed.get("change.status")
    }
    responses = {typed.get("id") for typed in ctx.typed.get("responses", [])}
    for typed, _written, location in ctx.rows("confirmations"):
        response = typed.get("response")
        if response in responses and response not in changes:
            yield problem(
                location,
                "response",
                "confirms-without-change",
                "a response that records a change",
                quote(response),
                "use the id of a response with a change: planned or made, or remove confirms.",
            )


def run_rules(ctx: Context) -> list[Problem]:
    found: list[Problem] = []
    for registered in sorted(RULES.values(), key=lambda r: r.last):
        for p in registered.check(ctx):
            if p.code not in registered.codes:
                raise ValueError(
                    f"rule {registered.name} reported {p.code}, which it does not declare"
                )
            found.append(p)
    return found


def group_by(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row.get(key)].append(row)
    return out
