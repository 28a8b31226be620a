"""Table Schema checks through frictionless-py: one pass per table, problems mapped to file:line."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from frictionless import Field, Resource, Schema
from frictionless.fields.yearmonth import yearmonth

from pipelines.load import Location, TableRows
from pipelines.package import Table
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


# --- Casting the common case without frictionless' row machinery ------------------------
#
# frictionless reads a row through Row objects, a reader per cell and a check per
# constraint: at 100,000 stories (a million and a half cells) that was most of a validation.
# Each field gets a caster compiled from its Table Schema that handles the values that are
# plainly valid, giving the very value frictionless gives (same type: str, int, Decimal,
# bool, datetime.date, frictionless' yearmonth); anything else, it answers FAIL, and that
# row goes through frictionless for the authoritative cast and errors.
# tests/test_validate_schema.py compares each caster with frictionless on arbitrary values.

FAIL: Any = object()
Caster = Callable[[Any], Any]

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_YEARMONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
# Descriptor keys a caster understands; a field with any other is cast by frictionless.
_PLAIN_KEYS = frozenset({"name", "type", "title", "description", "constraints", "example"})
_SUPPORTED = {
    "string": {"required", "minLength", "maxLength", "pattern", "enum"},
    "integer": {"required", "minimum", "maximum", "enum"},
    "number": {"required", "minimum", "maximum", "enum"},
    "date": {"required", "minimum", "maximum", "enum"},
    "yearmonth": {"required", "minimum", "maximum", "enum"},
    "boolean": {"required", "enum"},
}


def _frictionless_caster(field: Field) -> Caster:
    reader = field.create_cell_reader()

    def cast(value: Any) -> Any:
        typed, notes = reader(value)
        return FAIL if notes else typed

    return cast


def _parse_for(kind: str, field: Field) -> Callable[[str], Any]:
    """The cast of a plain text value that is sure to be valid for frictionless, else FAIL."""
    if kind == "string":
        return lambda value: value
    if kind == "integer":

        def parse_integer(value: str) -> Any:
            if _INTEGER.fullmatch(value) is None:
                return FAIL
            try:
                return int(value)
            except ValueError:  # more digits than Python converts (int_max_str_digits)
                return FAIL

        return parse_integer
    if kind == "number":
        return lambda value: Decimal(value) if _NUMBER.fullmatch(value) else FAIL
    if kind == "boolean":
        mapping = dict.fromkeys(field.true_values, True)  # type: ignore[attr-defined]
        mapping.update(dict.fromkeys(field.false_values, False))  # type: ignore[attr-defined]
        return lambda value: mapping.get(value, FAIL)
    if kind == "date":

        def parse_date(value: str) -> Any:
            match = _DATE.fullmatch(value)
            if match is None:
                return FAIL
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return FAIL

        return parse_date

    def parse_yearmonth(value: str) -> Any:
        match = _YEARMONTH.fullmatch(value)
        if match is None or not 1 <= int(match[2]) <= 12:
            return FAIL
        return yearmonth(int(match[1]), int(match[2]))

    return parse_yearmonth


def compile_caster(descriptor: dict[str, Any], field: Field) -> Caster:
    """A caster for one field: the value frictionless gives a valid cell, or FAIL."""
    kind = descriptor.get("type", "string")
    constraints = descriptor.get("constraints", {})
    if (
        set(descriptor) - _PLAIN_KEYS
        or kind not in _SUPPORTED
        or set(constraints) - _SUPPORTED[kind] - {"unique"}
        or field.missing_values != [""]
    ):
        return _frictionless_caster(field)
    parse = _parse_for(kind, field)
    value_reader = field.create_value_reader()
    required = bool(constraints.get("required"))
    checks: list[Callable[[Any], bool]] = []
    if "enum" in constraints:
        allowed = [value_reader(v) for v in constraints["enum"]]
        checks.append(lambda typed: typed in allowed)
    if "pattern" in constraints:
        pattern = re.compile(f"^{constraints['pattern']}$")
        checks.append(lambda typed: pattern.match(typed) is not None)
    if "minLength" in constraints:
        shortest = constraints["minLength"]
        checks.append(lambda typed: len(typed) >= shortest)
    if "maxLength" in constraints:
        longest = constraints["maxLength"]
        checks.append(lambda typed: len(typed) <= longest)
    bounds = [value_reader(constraints[k]) for k in ("minimum", "maximum") if k in constraints]
    if any(bound is None for bound in bounds):
        return _frictionless_caster(field)  # a bound that is not of the field's type
    if "minimum" in constraints:
        low = value_reader(constraints["minimum"])
        checks.append(lambda typed: typed >= low)
    if "maximum" in constraints:
        high = value_reader(constraints["maximum"])
        checks.append(lambda typed: typed <= high)

    def cast(value: Any) -> Any:
        if value is None or value == "":
            return FAIL if required else None
        if type(value) is not str:
            return FAIL
        typed = parse(value)
        if typed is FAIL:
            return FAIL
        for check in checks:
            if not check(typed):
                return FAIL
        return typed

    return cast


def table_casters(table: Table) -> list[tuple[str, Caster]]:
    """Each field's name and caster, in schema order."""
    return [(name, cast) for name, cast, _how in _table_plan(table)]


# How check_table casts a field's values: by calling the caster ("call"); as the caster
# would, without calling it ("text": a string field with no constraint but required, whose
# caster gives any non-empty text as it is); or through a dict of the values already cast
# ("memo": a field of few values, such as dates, ratings and enums). At 100,000 stories
# check_table casts over three million cells, and a Python call for each was most of its
# two seconds. A memo is used for text values only, so that equal keys are equal values of
# one type (1 and True are equal keys; "1" and 1 are not); the caster is a pure function of
# its value, so a value cast before is cast again to an equal value.
_Plan = list[tuple[str, Caster, str]]


def _table_plan(table: Table) -> _Plan:
    schema = frictionless_schema(table.schema)
    if schema.missing_values != [""]:
        return [(f.name, _frictionless_caster(f), "call") for f in schema.fields]
    return [_field_plan(f, schema.get_field(f["name"])) for f in table.fields]


def _field_plan(descriptor: dict[str, Any], field: Field) -> tuple[str, Caster, str]:
    cast = compile_caster(descriptor, field)
    kind = descriptor.get("type", "string")
    constraints = set(descriptor.get("constraints", {})) - {"required", "unique"}
    # Only compile_caster's own caster is known to give text as it is.
    if not cast.__qualname__.startswith(f"{compile_caster.__name__}."):
        how = "call"  # frictionless' caster
    elif kind != "string":
        how = "memo"
    elif not constraints:
        how = "text"
    elif constraints == {"enum"}:
        how = "memo"
    else:
        how = "call"
    return descriptor["name"], cast, how


def check_table(rows: TableRows) -> tuple[list[Problem], list[dict[str, Any]]]:
    """Problems in one table, and each row's values cast to the schema's types (None where bad)."""
    table = rows.table
    if not rows.rows:
        return [], []
    plan: list[tuple[str, Caster, dict[str, Any] | None, bool]] = [
        (name, cast, {} if how == "memo" else None, how == "text")
        for name, cast, how in _table_plan(table)
    ]
    typed: list[dict[str, Any]] = []
    doubtful: list[int] = []
    missing = _MISSING
    for index, row in enumerate(rows.rows):
        values: dict[str, Any] = {}
        for name, cast, memo, text in plan:
            value = row.get(name)
            if text and type(value) is str and value:
                values[name] = value  # what cast gives (see _field_plan)
                continue
            if memo is not None and type(value) is str:
                found = memo.get(value, missing)
                if found is missing:
                    found = memo[value] = cast(value)
            else:
                found = cast(value)
            if found is FAIL:
                doubtful.append(index)
                break
            values[name] = found
        typed.append(values)
    if not doubtful:
        return [], typed
    problems, checked = _check_rows(rows, doubtful)
    for index, values in zip(doubtful, checked, strict=True):
        typed[index] = values
    return problems, typed


_MISSING: Any = object()


def _check_rows(rows: TableRows, indexes: list[int]) -> tuple[list[Problem], list[dict[str, Any]]]:
    """frictionless' problems in the rows at indexes, and their values cast (None where bad)."""
    table = rows.table
    names = table.field_names
    fields = {f["name"]: f for f in table.fields}
    data: list[list[Any]] = [names, *([rows.rows[i].get(n) for n in names] for i in indexes)]
    problems: list[Problem] = []
    typed: list[dict[str, Any]] = []
    with Resource(data=data, schema=frictionless_schema(table.schema)) as resource:
        for row in resource.row_stream:
            index = indexes[row.row_number - 2]
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
