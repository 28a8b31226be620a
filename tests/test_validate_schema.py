"""The schema casters give exactly what frictionless gives a valid cell, or leave it to frictionless."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from frictionless.fields.yearmonth import yearmonth
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.load import Location, TableRows, load_dataset
from pipelines.package import read_source_package
from pipelines.problems import Problem
from pipelines.validate.schema import (
    FAIL,
    _check_rows,
    check_table,
    frictionless_schema,
    table_casters,
)
from pipelines.validate.schema import compile_caster as compile_one
from tests.invalid_fixtures import apply_fixture, read_fixture

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = read_source_package(ROOT / "data")
FIELDS = [(table, field) for table in PACKAGE.tables for field in table.fields]

# Cells as load gives them (text or None), shaped like every type the schemas use.
CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "true", "True", "TRUE", "1", "0", "false", "yes", "-0", "+1"]),
    st.sampled_from(["2026-05-01", "2026-02-30", "0000-01-01", "2026-13", "2026-00", "2026-5"]),
    st.sampled_from(["published", "patient", "CC-BY-4.0", "https://example.org", "a@b.org"]),
    st.sampled_from(["2026-05-01-abcdef", "2026-05-01-ABCDEF", "overall", "٣", "1_000", "1e3"]),
    st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]{6}\n?", fullmatch=True),
    st.text(max_size=3),
    st.text(min_size=95, max_size=125),
)


def typed_equal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@functools.cache
def field_pair(table_name: str, field_name: str) -> tuple[Any, Any, Any]:
    """A field's compiled caster, frictionless' cell reader for it, and its descriptor."""
    table = PACKAGE.table(table_name)
    frictionless_field = frictionless_schema(table.schema).get_field(field_name)
    caster = compile_one(table.field(field_name), frictionless_field)
    return caster, frictionless_field.create_cell_reader(), table.field(field_name)


@pytest.mark.parametrize(
    ("table", "field"),
    [(t.name, f["name"]) for t, f in FIELDS],
    ids=[f"{t.name}.{f['name']}" for t, f in FIELDS],
)
@settings(max_examples=200, deadline=None)
@given(cell=CELLS)
def test_a_caster_accepts_only_what_frictionless_accepts_and_casts_it_alike(
    table: str, field: str, cell: str | None
) -> None:
    caster, reader, _descriptor = field_pair(table, field)
    cast = caster(cell)
    if cast is FAIL:
        return
    typed, notes = reader(cell)
    assert notes is None
    assert typed_equal(cast, typed)


@pytest.mark.parametrize(
    ("table", "field", "cell", "expected"),
    [
        ("stories", "submitted", "2026-05-01", dt.date(2026, 5, 1)),
        ("stories", "experienced", "2026-04", yearmonth(2026, 4)),
        ("stories", "consent", "true", True),
        ("stories", "status", "published", "published"),
        ("stories", "service", None, None),
        ("ratings", "score", "4", 4),
        ("providers", "latitude", "51.5", Decimal("51.5")),
        ("stories", "status", "publish", FAIL),
        ("stories", "consent", "false", FAIL),
        ("ratings", "score", "6", FAIL),
        ("stories", "submitted", "2026-02-30", FAIL),
        ("stories", "title", None, FAIL),
    ],
)
def test_a_caster_casts_the_common_case_itself(
    table: str, field: str, cell: str | None, expected: Any
) -> None:
    assert typed_equal(field_pair(table, field)[0](cell), expected)


INVALID = sorted((ROOT / "tests/data/invalid").glob("*.yaml"))


def assert_same_as_frictionless(data_dir: Path) -> None:
    for rows in load_dataset(data_dir).tables.values():
        every = list(range(len(rows.rows)))
        problems, typed = check_table(rows)
        expected_problems, expected_typed = _check_rows(rows, every) if every else ([], [])
        assert sorted(problems) == sorted(expected_problems)
        assert [list(t.items()) for t in typed] == [list(t.items()) for t in expected_typed]
        assert all(
            typed_equal(a, b)
            for got, want in zip(typed, expected_typed, strict=True)
            for a, b in zip(got.values(), want.values(), strict=True)
        )


def test_check_table_gives_what_frictionless_gives_for_the_demo_and_sample(sample: Path) -> None:
    assert_same_as_frictionless(ROOT / "data")
    assert_same_as_frictionless(sample)


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_check_table_gives_what_frictionless_gives_for_each_invalid_file(
    fixture: Path, sample: Path
) -> None:
    apply_fixture(read_fixture(fixture), sample)
    assert_same_as_frictionless(sample)


def check_table_cell_by_cell(rows: TableRows) -> tuple[list[Problem], list[dict[str, Any]]]:
    """check_table as it was: every cell through its field's caster, each row's first
    failing cell sending that row to frictionless."""
    casters = table_casters(rows.table)
    typed, doubtful = [], []
    for index, row in enumerate(rows.rows):
        values: dict[str, Any] = {}
        for name, cast in casters:
            value = cast(row.get(name))
            if value is FAIL:
                doubtful.append(index)
                break
            values[name] = value
        typed.append(values)
    problems, checked = _check_rows(rows, doubtful) if doubtful else ([], [])
    for index, values in zip(doubtful, checked, strict=True):
        typed[index] = values
    return problems, typed


# Rows drawn from a few values per field, so that a value cast before comes again (as
# dates, ratings and enums do at scale), with missing fields and values of other types.
# Values alike but for a character or two meet in one field's pool.
FEW_CELLS = st.one_of(
    CELLS,
    st.integers(-1, 6),
    st.booleans(),
    st.sampled_from(["1", "2", "4", "5", "6", "true", "false", "patient", "published"]),
    st.sampled_from(["2026-05-01", "2026-05-02", "2026-04", "2026-14", "2026-02-29", "2024-02-29"]),
)


@functools.cache
def written_values(table: str) -> dict[str, list[Any]]:
    """Up to 20 values of each field of a table as the demo data writes them (valid, so
    that a row's later fields are cast too)."""
    rows = load_dataset(ROOT / "data").rows(table)
    return {
        f["name"]: sorted({row.get(f["name"]) for row in rows}, key=repr)[:20]
        for f in PACKAGE.table(table).fields
    }


@pytest.mark.parametrize("table", [t.name for t in PACKAGE.tables])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_check_table_casts_alike_cell_by_cell(table: str, data: st.DataObject) -> None:
    shape = PACKAGE.table(table)
    written = written_values(table)
    pools = {
        f["name"]: data.draw(
            st.lists(
                st.one_of(st.sampled_from(written[f["name"]] or [None]), FEW_CELLS),
                min_size=1,
                max_size=5,
            )
        )
        for f in shape.fields
    }
    rows = TableRows(shape)
    for line in range(1, data.draw(st.integers(1, 8)) + 1):
        row = {
            name: data.draw(st.sampled_from(pool))
            for name, pool in pools.items()
            if data.draw(st.integers(0, 9))  # now and then a field is missing
        }
        rows.add(row, Location("data/x.yaml", line, {}))
    problems, typed = check_table(rows)
    expected_problems, expected_typed = check_table_cell_by_cell(rows)
    assert problems == expected_problems
    assert [list(t.items()) for t in typed] == [list(t.items()) for t in expected_typed]
    assert all(
        typed_equal(a, b)
        for got, want in zip(typed, expected_typed, strict=True)
        for a, b in zip(got.values(), want.values(), strict=True)
    )


def test_check_table_casts_one_text_in_two_fields_by_each_field() -> None:
    shape = PACKAGE.table("stories")
    valid = {name: values[0] for name, values in written_values("stories").items()}
    rows = TableRows(shape)
    for line, (experienced, submitted, role) in enumerate(
        [("2026-04", "2026-04", "patient"), ("2026-04", "2026-04-01", "published")], start=1
    ):
        row = {**valid, "experienced": experienced, "submitted": submitted, "author.role": role}
        rows.add(row, Location("data/x.yaml", line, {}))
    rows.add({**valid, "status": "patient"}, Location("data/x.yaml", 3, {}))
    problems, typed = check_table(rows)
    assert (problems, typed) == check_table_cell_by_cell(rows)
    assert [p.code for p in problems] == ["wrong-type", "not-allowed-value", "not-allowed-value"]
