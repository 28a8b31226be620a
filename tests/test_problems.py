"""The Report and its renderers: text, json (against its JSON Schema), markdown and github."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from pipelines.problems import (
    GROUP_AFTER,
    MARKDOWN_LIMIT,
    Problem,
    Report,
    docs_url,
    escape_markdown,
    quote,
    render_github,
    render_json,
    render_markdown,
    render_text,
    report_as_dict,
)
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "docs/report.schema.json").read_text())
TRICKY = "a%b: c,d\r\ne::f <b>@g</b> | [x](javascript:y) `z` %0A"


def problem(path: str = "data/stories/2026/a.yaml", line: int = 3, **changes: str) -> Problem:
    values = {
        "field": "story",
        "code": "phone-number",
        "expected": "no phone number in published text",
        "got": quote(TRICKY),
        "fix": "remove the number.",
        "severity": "error",
    }
    values.update(changes)
    return Problem(path, line, **values)  # type: ignore[arg-type]


def test_text_format() -> None:
    report = Report.of([problem(), problem(line=5, severity="warning", code="titled-name")], 4)
    assert render_text(report) == (
        "data/stories/2026/a.yaml:3: error: story: expected no phone number in published text, "
        'got "a%b: c,d⏎e::f <b>@g</b> | [x](javascript:y) `z` %0A" [phone-number]\n'
        "  how to fix: remove the number.\n"
        "data/stories/2026/a.yaml:5: warning: story: expected no phone number in published text, "
        'got "a%b: c,d⏎e::f <b>@g</b> | [x](javascript:y) `z` %0A" [titled-name]\n'
        "  how to fix: remove the number.\n"
        "\n"
        "1 error and 1 warning in 1 file (4 files checked)\n"
    )


def test_summary_counts_accepted_findings() -> None:
    report = Report.of([], 4, accepted=[problem()])
    assert render_text(report) == (
        "no problems (4 files checked, 1 finding accepted by moderators)\n"
    )


@pytest.mark.parametrize(
    "problems",
    [[], [problem()], [problem(line=0, field="(file)", code="not-utf8")]],
    ids=["empty", "one", "whole-file"],
)
def test_json_matches_its_documented_schema(problems: list[Problem]) -> None:
    report = Report.of(problems, 2, accepted=[problem(line=9)])
    jsonschema.validate(json.loads(render_json(report)), SCHEMA)


def test_real_cli_json_output_matches_the_schema(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(
        story.read_text()
        .replace("overall: 5", "overall: 6")
        .replace("without sighing.", "without sighing, Dr Howard said.")
    )
    result = CliRunner().invoke(main, ["validate", "--data", str(sample), "--format", "json"])
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert [p["code"] for p in report["problems"]] == ["rating-out-of-range", "titled-name"]


def test_json_is_deterministic_and_sorted() -> None:
    report = Report.of([problem(line=9), problem(line=2)], 1)
    text = render_json(report)
    assert text == render_json(Report.of([problem(line=2), problem(line=9)], 1))
    assert text.endswith("}\n")
    assert [p["line"] for p in json.loads(text)["problems"]] == [2, 9]


def test_github_annotations_escape_data_and_properties() -> None:
    report = Report.of([problem(path="data/a,b:c%.yaml", field="x:y,z")], 1)
    first = render_github(report).splitlines()[0]
    assert first == (
        "::error file=data/a%2Cb%3Ac%25.yaml,line=3,title=x%3Ay%2Cz%3A phone-number::"
        "expected no phone number in published text, got "
        '"a%25b: c,d⏎e::f <b>@g</b> | [x](javascript:y) `z` %250A"'
        "%0Ahow to fix: remove the number."
    )


def test_github_annotation_message_never_breaks_its_line() -> None:
    raw = Problem("a.yaml", 1, "f", "c", "x\ny", "1\r\n::error::injected", "z", "warning")
    lines = render_github(Report.of([raw], 1)).splitlines()
    assert lines[0].startswith("::warning file=a.yaml,line=1,title=f%3A c::")
    assert lines[0].endswith("got 1\\u000d⏎::error::injected%0Ahow to fix: z")
    assert len(lines) == 2  # the annotation and the summary


def test_github_groups_repeats_with_the_right_severity() -> None:
    many = [problem(line=n, severity="warning", code="titled-name") for n in range(1, 30)]
    lines = render_github(Report.of(many, 1)).splitlines()
    assert lines[GROUP_AFTER] == (
        "::warning file=data/stories/2026/a.yaml::… and 9 more [titled-name]"
    )


def test_markdown_escapes_contributor_text() -> None:
    text = render_markdown(Report.of([problem()], 1), "https://example.org/problems.md")
    assert "<b>" not in text
    assert "](javascript" not in text
    assert "@g" not in text
    assert "&#60;b&#62;@\u200bg&#60;/b&#62;" in text
    assert "[phone-number](https://example.org/problems.md#phone-number)" in text


def test_markdown_has_one_table_per_file_and_a_summary() -> None:
    report = Report.of([problem(path="b.yaml"), problem(path="a.yaml", severity="warning")], 3)
    text = render_markdown(report)
    assert text.splitlines()[:4] == [
        "<!-- feedback-commons-report -->",
        "## Feedback Commons check",
        "",
        "❌ 1 error and 1 warning in 2 files (3 files checked).",
    ]
    assert text.count("| line | field | problem | how to fix |") == 2
    assert text.index("### a.yaml") < text.index("### b.yaml")


def test_markdown_path_cannot_break_out_of_its_heading() -> None:
    text = render_markdown(Report.of([problem(path="a\n# owned `x`.yaml")], 1))
    assert "\n# owned" not in text


def test_markdown_of_a_huge_report_stays_within_the_limit() -> None:
    problems = [
        problem(path=f"data/stories/2026/{n:05d}.yaml", line=line, code=f"code-{c}")
        for n in range(400)
        for line in range(1, 5)
        for c in range(3)
    ]
    text = render_markdown(Report.of(problems, 400))
    assert len(text) <= MARKDOWN_LIMIT
    assert "the report is too long to show whole" in text
    assert text.rstrip().endswith(
        f"[the problem codes]({'docs/problems.md'}). "
        "Run `feedback validate` in a checkout for the same report."
    )
    # It stops at a whole row.
    body = text.split("… the report is too long")[0].rstrip("\n")
    assert body.endswith("|")


def test_markdown_without_problems() -> None:
    assert render_markdown(Report.of([], 5)) == (
        "<!-- feedback-commons-report -->\n## Feedback Commons check\n\n"
        "✅ All good: no problems (5 files checked).\n"
    )


def test_docs_url() -> None:
    assert docs_url("owner/repo", "main") == (
        "https://github.com/owner/repo/blob/main/docs/problems.md"
    )


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<3", "&#60;3"),
        ("{{ x }}", "&#123;&#123; x &#125;&#125;"),
        ("@bob", "@\u200bbob"),
        ("abc\u202edef", "abc⟨U+202E⟩def"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_strict_makes_warnings_fail() -> None:
    report = Report.of([problem(severity="warning")], 1)
    assert (report.failed(), report.failed(strict=True)) == (False, True)


def test_cli_markdown_links_to_the_instance_repository(sample: Path) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("overall: 5", "overall: 6"))
    result = CliRunner().invoke(main, ["validate", "--data", str(sample), "--format", "markdown"])
    assert result.exit_code == 1
    assert (
        "([rating-out-of-range](https://github.com/example/sample/blob/main/docs/problems.md"
        "#rating-out-of-range))" in result.stdout
    )


@pytest.mark.parametrize(("strict", "exit_code"), [([], 0), (["--strict"], 1)])
def test_cli_strict_fails_on_warnings(sample: Path, strict: list[str], exit_code: int) -> None:
    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text().replace("the nurse was kind", "nurse Anna was kind"))
    result = CliRunner().invoke(main, ["validate", "--data", str(sample), *strict])
    assert result.exit_code == exit_code
    assert result.stdout.endswith("1 warning in 1 file (18 files checked)\n")


def test_control_characters_and_undecodable_bytes_are_made_visible() -> None:
    raw = Problem("a\udcffb\nc.yaml", 0, "k\x1bey", "wrong-file-type", "x", "y", "z")
    (shown,) = Report.of([raw], 1).problems
    assert (shown.path, shown.field) == ("a\\xffb⏎c.yaml", "k\\u001bey")
    assert render_text(Report.of([raw], 1)).splitlines()[0].startswith("a\\xffb⏎c.yaml: error:")


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(), min_size=0, max_size=8),
    lines=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
    accepted=st.integers(min_value=0, max_value=3),
)
def test_json_report_is_what_json_dumps_writes(
    texts: list[str], lines: list[int], accepted: int
) -> None:
    found = [
        Problem(text, line, text[:5], "phone-number", text, text[::-1], text, "warning")
        for text, line in zip(texts, lines * 8, strict=False)
    ]
    report = Report.of(found[accepted:], len(texts), accepted=found[:accepted])
    expected = json.dumps(report_as_dict(report), indent=2, sort_keys=True, ensure_ascii=False)
    assert render_json(report) == expected + "\n"
