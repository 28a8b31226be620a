"""The per-file checks run where files are read: the same report as the rules' own, on every core."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pipelines import readpool, recordfile
from pipelines.load import Row, load_dataset
from pipelines.package import Table
from pipelines.problems import Problem
from pipelines.readpool import map_chunks
from pipelines.validate import file_values, validate_dataset
from pipelines.validate.perfile import derived_values
from pipelines.validate.text import _may_hold_digits
from tests.conftest import INVALID
from tests.invalid_fixtures import apply_fixture, read_fixture

TODAY = dt.date(2026, 11, 23)
# Fixtures of every code the per-file values feed, and of files only the full reader reads.
FIXTURES = [
    "email-address",
    "phone-number",
    "nhs-number",
    "postcode",
    "titled-name",
    "spam-link",
    "spam-repeated-text",
    "spam-advertising",
    "duplicate-story",
    "near-duplicate-story",
    "too-few-words",
    "too-many-words",
    "nesting-too-deep",
    "duplicate-key",
    "not-utf8",
    "file-too-large",
]


def report_of(data_dir: Path, **options: Any) -> tuple[list[Problem], list[Problem]]:
    dataset = load_dataset(data_dir, **options)
    report = validate_dataset(dataset, today=TODAY).report
    return list(report.problems), list(report.accepted)


@pytest.fixture
def on_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read through the worker pool even for a handful of files, three to a chunk."""
    monkeypatch.setattr(readpool, "PARALLEL_READ_MIN", 1)
    monkeypatch.setattr(readpool, "READ_CHUNK", 3)


@pytest.mark.parametrize("name", FIXTURES)
def test_per_file_values_give_the_same_report(name: str, sample: Path, on_every_core: None) -> None:
    apply_fixture(read_fixture(INVALID / f"{name}.yaml"), sample)
    expected = report_of(sample)
    assert expected[0]  # the fixture is found at all
    assert report_of(sample, derive=file_values) == expected


def test_every_story_gets_its_values_from_the_workers(sample: Path, on_every_core: None) -> None:
    dataset = load_dataset(sample, derive=file_values)
    values = derived_values(dataset, "stories")
    assert values is not None
    assert len(values) == len(dataset.tables["stories"].rows) > 3
    assert [mark is not None for _findings, mark, _words in values] == [
        bool(row.get("story")) for row in dataset.tables["stories"].rows
    ]


def test_a_report_without_the_commons_is_the_same(sample: Path) -> None:
    apply_fixture(read_fixture(INVALID / "email-address.yaml"), sample)
    full = validate_dataset(load_dataset(sample), today=TODAY)
    bare = validate_dataset(load_dataset(sample), today=TODAY, commons=False)
    assert full.commons is not None
    assert bare.commons is None
    assert bare.report == full.report
    assert bare.instance == full.instance == full.commons.instance


def failing(table: Table, rows: list[Row]) -> list[Any]:
    raise RuntimeError("a bug in a derive")


def test_a_failing_derive_loses_no_problem(sample: Path, on_every_core: None) -> None:
    apply_fixture(read_fixture(INVALID / "email-address.yaml"), sample)
    expected = report_of(sample)
    dataset = load_dataset(sample, derive=failing)
    assert derived_values(dataset, "stories") is None
    assert list(validate_dataset(dataset, today=TODAY).report.problems) == expected[0]


def test_a_file_the_simple_reader_trips_on_is_read_in_full(
    sample: Path, on_every_core: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = report_of(sample)

    def tripping(text: str) -> None:
        raise RecursionError("a bug in the simple reader")

    monkeypatch.setattr(recordfile, "parse_simple_yaml", tripping)
    assert report_of(sample, derive=file_values) == expected


def squares(chunk: list[int]) -> list[int]:
    return [n * n for n in chunk]


@pytest.mark.parametrize("minimum", [1, 1000])
def test_map_chunks_keeps_the_order(minimum: int) -> None:
    assert list(map_chunks(squares, list(range(50)), 7, minimum)) == [n * n for n in range(50)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("no numbers here", False), ("ward 7", True), ("née", True), ("٠٧٧٠٠", True), ("", False)],
)
def test_only_text_without_any_digit_skips_the_number_checks(text: str, expected: bool) -> None:
    assert _may_hold_digits(text) is expected
