"""Rules over free text: personal data, spam signals and spreadsheet-formula prefixes.

Free-text fields are read from the schemas (text without an enum, pattern or format that is
not a key) of the tables contributors, responders and moderators write. A moderator accepts
one finding through a row of accepted-findings.csv; the rules themselves cannot be turned off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.load import Location
from pipelines.package import Table
from pipelines.problems import Problem, quote
from pipelines.validate.codes import code
from pipelines.validate.parallel import map_in_order
from pipelines.validate.perfile import derived_values, findings_of
from pipelines.validate.rules import Context, rule
from pipelines.validate.text import (
    FORMULA_PREFIXES,
    Finding,
    line_in_value,
    lower_same_length,
    personal_data,
    shown,
    spam_signals,
)

# The tables whose text people write and the site publishes.
TEXT_TABLES = ("stories", "responses", "moderation")
# Free-text fields this short or shorter are "short fields" (a title, a pseudonym, a service):
# a spreadsheet would read a leading = + - @ in them as a formula.
SHORT_FIELD_MAX_LENGTH = 200

_REWRITE = {
    "email-address": "remove the e-mail address, or say in words whose it is (“the ward's e-mail address”)",
    "phone-number": "remove the number, or say in words whose it is (“the surgery's phone number”)",
    "nhs-number": "remove the NHS number",
    "national-insurance-number": "remove the National Insurance number",
    "postcode": "remove the postcode, or name only the town or area",
    "titled-name": "write the role instead of the name (“the doctor”, “a nurse”), unless a moderator accepts it",
    "spam-link": "remove the link, or name the website in words",
    "spam-repeated-text": "remove the repeated text",
    "spam-advertising": "remove the advertising and tell your own experience",
}


_EXPECTED = {
    "email-address": "no e-mail address in published text",
    "phone-number": "no phone number in published text",
    "nhs-number": "no NHS number in published text",
    "national-insurance-number": "no National Insurance number in published text",
    "postcode": "no postcode in published text",
    "titled-name": "roles rather than names in published text",
    "spam-link": "no web links in a story",
    "spam-repeated-text": "text said once",
    "spam-advertising": "no advertising",
}


def free_text_fields(table: Table) -> list[str]:
    """The fields of a table holding free text: strings not fixed by an enum, pattern, format or key."""
    keys = set(table.primary_key)
    for fk in table.foreign_keys:
        keys.update(fk.fields)
    out = []
    for field in table.fields:
        constraints = field.get("constraints", {})
        if (
            field.get("type", "string") == "string"
            and not {"enum", "pattern"} & set(constraints)
            and "format" not in field
            and field["name"] not in keys
        ):
            out.append(field["name"])
    return out


def short_fields(table: Table) -> list[str]:
    return [
        name
        for name in free_text_fields(table)
        if table.field(name).get("constraints", {}).get("maxLength", SHORT_FIELD_MAX_LENGTH + 1)
        <= SHORT_FIELD_MAX_LENGTH
    ]


def _record_id(table: Table, written: dict[str, Any]) -> Any:
    """The id a finding is accepted under: a story's or response's id; a log row's story."""
    return written.get("id") if "id" in table.field_names else written.get("story")


def _problem(location: Location, field_name: str, found: Finding, value: str) -> Problem:
    shown_field, key_line = location.of(field_name)
    line = line_in_value(key_line, value, found.start) if key_line else key_line
    return Problem(
        location.path,
        line,
        shown_field,
        found.code,
        _EXPECTED[found.code],
        f"{found.what}: {quote(shown(found.text))}",
        _REWRITE[found.code] + ".",
        code(found.code).severity,
    )


def text_findings(text: str) -> list[Finding]:
    """Personal data and spam signals in one text (a module function, so workers can run it)."""
    lowered = lower_same_length(text)
    return personal_data(text, lowered) + spam_signals(text, lowered)


@rule(
    "email-address",
    "phone-number",
    "nhs-number",
    "national-insurance-number",
    "postcode",
    "titled-name",
    "spam-link",
    "spam-repeated-text",
    "spam-advertising",
)
def text_in_free_text_fields(ctx: Context) -> Iterator[Problem]:
    """No personal data in published text; spam signals flagged for a moderator."""
    package = ctx.dataset.package
    where: list[tuple[Table, dict[str, Any], Location, str]] = []
    texts: list[str] = []
    known: list[list[Finding] | None] = []  # findings worked out where the file was read
    for name in TEXT_TABLES:
        table = package.table(name)
        fields = free_text_fields(table)
        derived = derived_values(ctx.dataset, name)
        if derived is not None:
            data = ctx.dataset.tables[name]
            for values, written, location in zip(derived, data.rows, data.locations, strict=True):
                for field_name in fields:
                    if field_name in values[0]:
                        where.append((table, written, location, field_name))
                        texts.append(written[field_name] or "")
                        known.append(findings_of(values, field_name))
            continue
        for _typed, written, location in ctx.rows(name):
            for field_name in fields:
                value = written.get(field_name)
                if value:
                    where.append((table, written, location, field_name))
                    texts.append(value)
                    known.append(None)
    unknown = [text for text, found in zip(texts, known, strict=True) if found is None]
    worked_out = iter(map_in_order(text_findings, unknown))
    for (table, written, location, field_name), value, found_before in zip(
        where, texts, known, strict=True
    ):
        findings = next(worked_out) if found_before is None else found_before
        for found in findings:
            problem = _problem(location, field_name, found, value)
            record_id = _record_id(table, written)
            if not ctx.acceptance.accepts(problem, record_id, field_name, found.text):
                yield problem


@rule("formula-prefix")
def formula_prefixes(ctx: Context) -> Iterator[Problem]:
    """A short field never starts with what a spreadsheet reads as a formula."""
    package = ctx.dataset.package
    for name in TEXT_TABLES:
        fields = short_fields(package.table(name))
        for _typed, written, location in ctx.rows(name):
            for field_name in fields:
                value = written.get(field_name)
                if value and value.startswith(FORMULA_PREFIXES):
                    shown_field, line = location.of(field_name)
                    yield Problem(
                        location.path,
                        line,
                        shown_field,
                        "formula-prefix",
                        "a value starting with a letter or digit, not = + - @ or a tab",
                        quote(value),
                        f"remove the {quote(value[0]) if value[0].strip() else 'tab'} at the start of {shown_field}.",
                    )


def read_acceptance(ctx: Context) -> None:
    """Fill ctx.acceptance from the rows of accepted-findings.csv that passed their schema."""
    for typed, _written, location in ctx.rows("accepted-findings"):
        key = (typed.get("record"), typed.get("field"), typed.get("code"), typed.get("text"))
        if all(isinstance(part, str) for part in key):
            ctx.acceptance.rows.setdefault(key, location)  # type: ignore[arg-type]
