"""The whole-table rules find in C calls that a table has nothing to report, and go row by
row only when it has; build_commons sets records from rows in C calls: the report and the
commons are the same either way."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import pipelines.validate as validate
from pipelines.load import load_dataset
from pipelines.problems import Report
from pipelines.records import Commons, from_row
from pipelines.validate import rules, validate_dataset
from tests.conftest import INVALID
from tests.invalid_fixtures import apply_fixture, read_fixture

TODAY = dt.date(2026, 11, 23)
FIXTURES = [
    "duplicate-id",
    "missing-overall-rating",
    "unknown-story",
    "unknown-responder",
    "unknown-tag",
    "unknown-dimension",
    "unknown-provider",
    "unknown-response",
    "unknown-area",
    "unknown-provider-kind",
    "missing-value",
    "wrong-type",
]


def _report(data_dir: Path) -> Report:
    return validate_dataset(load_dataset(data_dir), today=TODAY).report


@pytest.mark.parametrize("name", [None, *FIXTURES])
def test_the_same_report_row_by_row(
    name: str | None, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name is not None:
        apply_fixture(read_fixture(INVALID / f"{name}.yaml"), sample)
    quick = _report(sample)
    if name is not None:
        assert any(p.code == name for p in quick.problems)
    # Every table read row by row, as when a row lacks a field.
    monkeypatch.setattr(rules, "_column", lambda rows, names: None)
    assert _report(sample) == quick


def _reference_from_rows(
    cls: type[Any], rows: list[dict[str, Any]], as_is: Any = (), **extra: list[Any]
) -> list[Any]:
    """from_rows as it was: from_row, record by record."""
    return [
        from_row(cls, row, **{name: values[i] for name, values in extra.items()})
        for i, row in enumerate(rows)
    ]


def _states(commons: Commons) -> list[list[tuple[str, Any, type]]]:
    """Every record's attributes in order, with each value's exact type."""
    return [
        [(name, value, type(value)) for name, value in vars(record).items()]
        for table in dataclasses.fields(commons)
        if table.name != "instance"
        for record in getattr(commons, table.name)
    ]


@pytest.mark.parametrize("name", [None, "duplicate-id", "wrong-type", "missing-value"])
def test_the_same_commons_record_by_record(
    name: str | None, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name is not None:
        apply_fixture(read_fixture(INVALID / f"{name}.yaml"), sample)
    quick = validate_dataset(load_dataset(sample), today=TODAY).commons
    monkeypatch.setattr(validate, "from_rows", _reference_from_rows)
    reference = validate_dataset(load_dataset(sample), today=TODAY).commons
    assert quick is not None and reference is not None
    assert quick == reference
    assert _states(quick) == _states(reference)


def test_values_of_rows_without_some_keys_are_got_as_get_gives_them() -> None:
    rows: list[dict[str, Any]] = [{"story": "a", "score": 3}, {"story": "b", "dimension": "x"}]
    assert validate._values(rows, "story", "dimension", "score") == [
        ("a", None, 3),
        ("b", "x", None),
    ]
    with pytest.raises(KeyError):  # as row["story"] raised
        validate._values([{"dimension": "x"}], "story", "dimension")


@pytest.mark.parametrize("name", [None, "duplicate-id", "unknown-story", "missing-value"])
def test_rules_run_beside_the_commons_with_the_same_result(
    name: str | None, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name is not None:
        apply_fixture(read_fixture(INVALID / f"{name}.yaml"), sample)
    dataset = load_dataset(sample)
    in_turn = validate_dataset(dataset, today=TODAY)
    started: list[object] = []
    beside = validate.beside

    def counted(function: Any, *args: Any) -> Any:
        started.append(function)
        return beside(function, *args)

    monkeypatch.setattr(validate, "RULES_BESIDE_MIN", 0)
    monkeypatch.setattr(validate, "beside", counted)
    at_once = validate_dataset(dataset, today=TODAY)
    assert started == [validate._checked]
    assert at_once.report == in_turn.report
    assert at_once.commons == in_turn.commons
    if name is not None:
        assert any(p.code == name for p in at_once.report.problems)


def test_a_rule_failing_beside_the_commons_fails_the_validation(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: rules.Context) -> list[Any]:
        raise ValueError("a rule broke")

    monkeypatch.setattr(validate, "RULES_BESIDE_MIN", 0)
    monkeypatch.setattr(validate, "run_rules", broken)
    with pytest.raises(ValueError, match="a rule broke"):
        validate_dataset(load_dataset(sample), today=TODAY)
