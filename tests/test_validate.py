from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.load import load_dataset
from pipelines.problems import Problem, render_text
from pipelines.validate import validate_dataset, validate_since
from pipelines.validate.codes import CODES
from tests.conftest import INVALID
from tests.invalid_fixtures import apply_fixture, commit_all, read_fixture

FIXTURES = sorted(INVALID.glob("*.yaml"))


def problems_of(data_dir: Path) -> list[Problem]:
    return list(
        validate_dataset(load_dataset(data_dir), today=dt.date(2026, 11, 23)).report.problems
    )


def test_sample_is_valid(sample: Path) -> None:
    assert problems_of(sample) == []


def test_demo_data_is_valid() -> None:
    report = validate_dataset(load_dataset(Path("data")), today=dt.date(2026, 11, 23)).report
    assert report.errors == (), render_text(report)


@pytest.mark.parametrize("fixture_path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_invalid_fixture_yields_exactly_its_code(
    fixture_path: Path, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = read_fixture(fixture_path)
    if fixture.since:
        commit_all(sample)
        apply_fixture(fixture, sample)
        monkeypatch.chdir(sample.parent)
        validation = validate_since(
            Path("sample"), fixture.since, fixture.author, today=dt.date(2026, 11, 23)
        )
        problems = list(validation.report.problems)
    else:
        apply_fixture(fixture, sample)
        problems = problems_of(sample)
    found = [(p.path, p.line, p.code) for p in problems]
    assert found == [(f"sample/{fixture.path}", fixture.line, fixture.code)]


@pytest.mark.parametrize(
    ("fixture_name", "handed_over"),
    [
        pytest.param(None, True, id="valid"),
        # Found by a rule, after the commons is built: the caller still learns of it.
        pytest.param("duplicate-id", True, id="a rule's error"),
        # Found by the schema checks, before: the commons would not be used.
        pytest.param("not-allowed-value", False, id="a schema error"),
    ],
)
def test_the_commons_is_handed_over_as_soon_as_it_is_built(
    sample: Path, fixture_name: str | None, handed_over: bool
) -> None:
    if fixture_name is not None:
        apply_fixture(read_fixture(INVALID / f"{fixture_name}.yaml"), sample)
    given: list[object] = []
    validation = validate_dataset(
        load_dataset(sample), today=dt.date(2026, 11, 23), on_commons=given.append
    )
    assert given == ([validation.commons] if handed_over else [])
    assert bool(validation.report.errors) is (fixture_name is not None)


def test_every_code_has_a_fixture() -> None:
    assert sorted(CODES) == sorted(p.stem for p in FIXTURES)


def test_problem_says_where_what_and_how(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("overall: 5", "overall: 6"))
    assert render_text(validate_dataset(load_dataset(sample)).report) == (
        "sample/stories/2026/2026-01-05-aaaa01.yaml:11: error: ratings.overall: "
        'expected a whole number from 1 to 5, got "6" [rating-out-of-range]\n'
        "  how to fix: change ratings.overall to a whole number from 1 to 5.\n"
        "\n"
        "1 error in 1 file (18 files checked)\n"
    )


def test_every_problem_is_reported_in_one_run(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    text = story.read_text()
    text = text.replace("overall: 5", "overall: 9").replace("role: patient", "role: visitor")
    text = text.replace("provider: brook-surgery", "provider: brook-surgey")
    story.write_text(text)
    found = [(p.line, p.field, p.code) for p in problems_of(sample)]
    assert found == [
        (2, "provider", "unknown-provider"),
        (9, "author.role", "not-allowed-value"),
        (11, "ratings.overall", "rating-out-of-range"),
    ]


def test_unknown_provider_suggests_the_nearest(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("provider: brook-surgery", "provider: brook-surgey"))
    (problem,) = problems_of(sample)
    assert problem.got == '"brook-surgey" (did you mean "brook-surgery"?)'
    assert problem.fix == 'use an id listed in providers.csv, did you mean "brook-surgery"?.'


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "ftp://brook.example",
        "https://",
        "http://a b",
        "https://brook.example/?q=<script>",
    ],
)
def test_a_provider_website_must_be_a_web_address(sample: Path, website: str) -> None:
    providers = sample / "providers.csv"
    providers.write_text(providers.read_text().replace("https://brook.example", website))
    (problem,) = problems_of(sample)
    assert (problem.path, problem.line, problem.field, problem.code) == (
        "sample/providers.csv",
        2,
        "website",
        "wrong-format",
    )
    assert problem.expected.startswith(
        "the provider's own website: an address starting https:// (or http://), as a "
        "browser's address bar copies it"
    )


def test_unknown_field_suggests_the_nearest(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("title:", "titel:"))
    found = [(p.line, p.code, p.got) for p in problems_of(sample)]
    assert (4, "unknown-field", '"titel" (did you mean "title"?)') in found


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("NO", "NO"),
        ("012345", "012345"),
        ("yes", "yes"),
        ("1e3", "1e3"),
        ("2026-01-05", "2026-01-05"),
    ],
)
def test_yaml_values_stay_as_typed(sample: Path, written: str, expected: str) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("Quick appointment and a kind nurse", written))
    dataset = load_dataset(sample)
    titles = {row["id"]: row["title"] for row in dataset.rows("stories")}
    assert titles["2026-01-05-aaaa01"] == expected


def test_deeply_nested_input_is_a_problem_not_a_crash(sample: Path) -> None:
    (sample / "stories/2026/2026-05-01-deep01.yaml").write_text("[" * 60_000)
    found = [(p.code, p.line) for p in problems_of(sample)]
    assert found == [("nesting-too-deep", 1)]
