"""Table Schema checks through frictionless-py: one pass per table, problems mapped to file:line."""

from __future__ import annotations

import difflib
import re
from typing import Any

from frictionless import Resource, Schema

from pipelines.load import Location, TableRows
from pipelines.problems import Problem, quote
from pipelines.validate.codes import FIELD_CODES, code

_CONSTRAINT = re.compile(r'constraint "(\w+)"')

_TYPES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "date": "a real date written as 2026-11-22",
    "yearmonth": "a year and month written as 2026-10",
    "datetime": "a date and time written as 2026-11-22T14:30:00Z",
}
_FORMATS = {
    "uri": "a web address starting with https://",
    "email": "an e-mail address such as name@example.org",
}
# Keys frictionless does not need: we check keys ourselves to name both files of a duplicate.
_OUR_KEYS = ("primaryKey", "foreignKeys")


def frictionless_schema(schema: dict[str, Any]) -> Schema:
    descriptor = {
        k: v for k, v in schema.items() if k not in _OUR_KEYS and not k.startswith("feedback:")
    }
    descriptor["fields"] = [
        {**f, "constraints": {k: v for k, v in f.get("constraints", {}).items() if k != "unique"}}
        for f in schema["fields"]
    ]
    return Schema.from_descriptor(descriptor)


def expected_for(field: dict[str, Any], constraint: str | None = None) -> str:
    """What a field expects, in plain words, from its schema."""
    constraints = field.get("constraints", {})
    kind = field.get("type", "string")
    if constraint == "enum" or (constraint is None and "enum" in constraints):
        values = constraints["enum"]
        words = [("true" if v is True else "false" if v is False else str(v)) for v in values]
        return "one of " + ", ".join(f'"{w}"' for w in words) if len(words) > 1 else words[0]
    if constraint in ("minimum", "maximum"):
        low, high = constraints.get("minimum"), constraints.get("maximum")
        noun = "a whole number" if kind == "integer" else "a number"
        if low is not None and high is not None:
            return f"{noun} from {low} to {high}"
        return f"{noun} of at least {low}" if low is not None else f"{noun} of at most {high}"
    if constraint in ("minLength", "maxLength"):
        low, high = constraints.get("minLength"), constraints.get("maxLength")
        if low is not None and high is not None:
            return f"{low} to {high} characters"
        return f"at least {low} characters" if low is not None else f"at most {high} characters"
    if constraint == "pattern":
        return _sentence(field.get("description") or f"text in the format of {field['name']}")
    if constraint == "required":
        description = field.get("description")
        return f"a value ({_sentence(description)})" if description else "a value"
    if field.get("format") in _FORMATS:
        return _FORMATS[field["format"]]
    return _TYPES.get(kind, kind)


def _sentence(text: str) -> str:
    """A description as a phrase that follows "expected": lower-case start, no final full stop."""
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _code_for(table: str, field_name: str, constraint: str | None) -> str:
    bucket = {
        None: "type",
        "minimum": "range",
        "maximum": "range",
        "minLength": "too-short",
        "maxLength": "too-long",
        "enum": "not-allowed-value",
        "pattern": "wrong-format",
        "required": "missing-value",
    }[constraint]
    special = FIELD_CODES.get((table, field_name, bucket))
    if special:
        return special
    return {"type": "wrong-type", "range": "out-of-range"}.get(bucket, bucket)


def _fix(problem_code: str, shown: str, expected: str) -> str:
    if problem_code == "missing-value":
        return f"add a value for {shown}."
    if problem_code in ("rating-out-of-range", "rating-not-whole-number"):
        return f"change {shown} to a whole number from 1 to 5."
    if problem_code == "not-allowed-value":
        return f"change {shown} to {expected}."
    if problem_code == "too-long":
        return f"shorten {shown} to {expected}."
    if problem_code == "too-short":
        return f"lengthen {shown} to {expected}."
    return f"write {shown} as {expected}."


def problem_at(
    location: Location, field_name: str, problem_code: str, expected: str, got: str, fix: str
) -> Problem:
    shown, line = location.of(field_name)
    return Problem(
        location.path, line, shown, problem_code, expected, got, fix, code(problem_code).severity
    )


def check_table(rows: TableRows) -> tuple[list[Problem], list[dict[str, Any]]]:
    """Problems in one table, and each row's values cast to the schema's types (None where bad)."""
    table = rows.table
    if not rows.rows:
        return [], []
    names = table.field_names
    fields = {f["name"]: f for f in table.fields}
    data: list[list[Any]] = [names, *([row.get(n) for n in names] for row in rows.rows)]
    problems: list[Problem] = []
    typed: list[dict[str, Any]] = []
    with Resource(data=data, schema=frictionless_schema(table.schema)) as resource:
        for row in resource.row_stream:
            index = row.row_number - 2
            location = rows.locations[index]
            values = row.to_dict()
            for error in row.errors:
                name = getattr(error, "field_name", None)
                if name is None:  # a blank row: every required field is missing
                    problems.extend(
                        _problem(table.name, location, field, "required", None)
                        for field in table.fields
                        if field.get("constraints", {}).get("required")
                    )
                    continue
                values[name] = None
                if error.type == "type-error":
                    constraint = None
                else:
                    match = _CONSTRAINT.search(error.note or "")
                    constraint = match.group(1) if match else "required"
                problems.append(
                    _problem(
                        table.name, location, fields[name], constraint, rows.rows[index].get(name)
                    )
                )
            typed.append(values)
    return problems, typed


# A value written in the shape of a date or year-month, whatever its numbers: when such a
# value fails the type check, it names a day or month no calendar has.
_DATE_SHAPES = {
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    "yearmonth": re.compile(r"[0-9]{4}-[0-9]{2}"),
}


def _problem(
    table: str, location: Location, field: dict[str, Any], constraint: str | None, value: Any
) -> Problem:
    problem_code = _code_for(table, field["name"], constraint)
    expected = expected_for(field, constraint)
    shown, _ = location.of(field["name"])
    got = quote(value)
    shape = _DATE_SHAPES.get(field.get("type", ""))
    if constraint is None and shape and isinstance(value, str) and shape.fullmatch(value.strip()):
        return problem_at(
            location,
            field["name"],
            "impossible-date",
            f"{expected}, on a day that exists",
            f"{got} (no such {'day' if field['type'] == 'date' else 'month'})",
            f"check the day and month of {shown}: write a date that exists.",
        )
    if constraint == "enum" and isinstance(value, str):
        allowed = [str(v) for v in field["constraints"]["enum"]]
        near = difflib.get_close_matches(value.lower(), allowed, n=1, cutoff=0.6)
        if near:
            got += f' (did you mean "{near[0]}"?)'
    return problem_at(
        location, field["name"], problem_code, expected, got, _fix(problem_code, shown, expected)
    )
