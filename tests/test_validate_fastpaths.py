"""The whole-table rules find in C calls that a table has nothing to report, and go row by
row only when it has: the report is the same either way."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.load import load_dataset
from pipelines.problems import Report
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
