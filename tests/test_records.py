"""from_rows builds the very records from_row builds, only quicker."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from frictionless.fields.yearmonth import yearmonth

from pipelines.records import Provider, Story, from_row, from_rows


def _state(record: Any) -> list[tuple[str, Any, type]]:
    """A record's attributes in order, with each value's exact type."""
    return [(name, value, type(value)) for name, value in vars(record).items()]


def _story_row(number: int, **changes: Any) -> dict[str, Any]:
    row = {
        "id": f"2026-10-01-{number:06d}",
        "provider": "p",
        "service": None,
        "title": "A title",
        "experienced": yearmonth(2026, 9),
        "submitted": dt.date(2026, 10, 1),
        "author.pseudonym": "Sam",
        "author.role": "patient",
        "status": "published",
        "licence": "CC-BY-4.0",
        "consent": True,
        "submitted_via": None,
        "story": "Text.",
    }
    row.update(changes)
    return row


STORY_AS_IS = ["id", "provider", "title", "submitted", "author.pseudonym", "status", "consent"]


def test_the_same_records_as_from_row() -> None:
    rows = [_story_row(n) for n in range(3)] + [_story_row(9, service="Ward 3", story=None)]
    extra: dict[str, list[Any]] = {
        "path": [f"data/stories/2026/{n}.yaml" for n in range(4)],
        "ratings": [{"overall": 4}, {}, {"overall": 1, "care": 2}, {}],
        "good": [("kind",), (), (), ("quick", "kind")],
    }
    expected = [
        from_row(Story, row, **{name: values[i] for name, values in extra.items()})
        for i, row in enumerate(rows)
    ]
    built = from_rows(Story, rows, STORY_AS_IS, **extra)
    assert built == expected
    assert [_state(r) for r in built] == [_state(r) for r in expected]
    assert built[0].experienced == "2026-09"  # yearmonth went through plain()
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].title = "changed"  # type: ignore[misc]


def test_values_not_kept_as_they_are_go_through_plain() -> None:
    rows = [{"id": "a", "name": "A", "kind": "gp", "area": "x", "latitude": Decimal("51.5")}]
    (built,) = from_rows(Provider, rows, ["id", "name", "kind", "area"])
    assert built == from_row(Provider, rows[0])
    assert type(built.latitude) is float
    assert _state(built) == _state(from_row(Provider, rows[0]))


def test_rows_of_other_shapes_and_defaults() -> None:
    rows: list[dict[str, Any]] = [
        {"id": "a", "name": "A", "kind": "gp", "area": "x"},
        {"area": "y", "kind": "dentist", "id": "b", "name": "B", "website": "https://b.org"},
        {"id": "c", "name": "C", "kind": "gp", "area": "x", "not_a_field": 3},
    ]
    built = from_rows(Provider, rows)
    assert [_state(r) for r in built] == [_state(from_row(Provider, row)) for row in rows]


def test_what_from_row_refuses_it_refuses() -> None:
    with pytest.raises(TypeError):  # no value for a field without a default
        from_rows(Provider, [{"id": "a", "name": "A"}])
    with pytest.raises(TypeError):  # a value given twice
        from_rows(Provider, [{"id": "a", "name": "A", "kind": "k", "area": "x"}], name=["B"])


def test_a_field_with_a_default_factory_left_out_gets_its_own_value() -> None:
    rows = [_story_row(1), _story_row(2)]
    built = from_rows(Story, rows, STORY_AS_IS, path=["a", "b"])
    assert built == [from_row(Story, row, path=p) for row, p in zip(rows, "ab", strict=True)]
    assert built[0].ratings is not built[1].ratings
