"""Hostile files never crash the validator: each is a problem at a line, in a process that survives.

PyYAML's C composer recurses once per nesting level and takes the whole process down on a
deeply nested document, so these run `feedback validate` in a child process and check that it
exits 1 with a JSON report, rather than dying from a signal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import INVALID, ROOT
from tests.invalid_fixtures import apply_fixture, read_fixture

HOSTILE = [
    "nesting-too-deep",
    "duplicate-key",
    "yaml-anchor",
    "yaml-custom-tag",
    "not-utf8",
    "byte-order-mark",
    "nul-byte",
    "file-too-large",
    "yaml-syntax",
]
STORY = "stories/2026/2026-05-01-hostile.yaml"


def validate_in_child(data_dir: Path) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines",
            "validate",
            "--data",
            str(data_dir),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=data_dir.parent,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def codes(report: dict[str, object]) -> list[tuple[str, int, str]]:
    problems = report["problems"]
    assert isinstance(problems, list)
    return [(p["path"], p["line"], p["code"]) for p in problems]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 60_000, "nesting-too-deep"),
        # A flow mapping used as a key is refused before it can nest.
        ("{" * 60_000, "yaml-syntax"),
        ("a: " + "[{" * 30_000, "yaml-syntax"),
        ("".join(f"{'  ' * i}- \n" for i in range(200)), "nesting-too-deep"),
        ("story: " + "[" * 61_000 + "]" * 61_000, "file-too-large"),
    ],
    ids=["brackets", "braces", "mixed", "block-lists", "closed"],
)
def test_deep_nesting_is_a_problem_and_the_process_survives(
    sample: Path, text: str, code: str
) -> None:
    (sample / STORY).write_text(text)
    exit_code, report = validate_in_child(sample)
    assert (exit_code, [c for _, _, c in codes(report)]) == (1, [code])


def test_sixty_kilobytes_of_brackets(sample: Path) -> None:
    (sample / STORY).write_text("[" * 60_000)
    exit_code, report = validate_in_child(sample)
    assert (exit_code, codes(report)) == (1, [(f"sample/{STORY}", 1, "nesting-too-deep")])


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_fixture_in_a_child_process(sample: Path, name: str) -> None:
    fixture = read_fixture(INVALID / f"{name}.yaml")
    apply_fixture(fixture, sample)
    exit_code, report = validate_in_child(sample)
    assert (exit_code, codes(report)) == (1, [(f"sample/{fixture.path}", fixture.line, name)])


def test_the_child_process_runs_this_checkout() -> None:
    # The subprocess imports pipelines from the working directory's parent: make sure the
    # tests would notice running some other installed copy.
    result = subprocess.run(
        [sys.executable, "-c", "import pipelines, sys; sys.stdout.write(pipelines.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout).resolve().parent == ROOT / "pipelines"


def test_file_names_that_are_not_utf8_or_hold_line_breaks(sample: Path) -> None:
    folder = bytes(sample / "stories/2026")
    with open(folder + b"/bad\xff.yaml", "wb") as handle:
        handle.write(b"id: x\n")
    with open(folder + b"/two\nlines.txt", "wb") as handle:
        handle.write(b"id: x\n")
    exit_code, report = validate_in_child(sample)
    assert exit_code == 1
    paths = sorted({path for path, _, _ in codes(report)})
    assert paths == ["sample/stories/2026/bad\\xff.yaml", "sample/stories/2026/two⏎lines.txt"]


@pytest.mark.parametrize(
    ("path", "written", "replacement", "code"),
    [
        (
            "stories/2026/2026-01-05-aaaa01.yaml",
            "overall: 5",
            "overall: " + "1" * 5000,
            "rating-not-whole-number",
        ),
        ("instance.yaml", "max_file_bytes: 65536", "max_file_bytes: " + "9" * 5000, "wrong-type"),
        ("instance.yaml", "max_file_bytes: 65536", 'max_file_bytes: "\u00b2"', "wrong-type"),
    ],
    ids=["rating", "max-file-bytes", "superscript-digit"],
)
def test_numbers_python_will_not_convert_are_problems(
    sample: Path, path: str, written: str, replacement: str, code: str
) -> None:
    # Past 4,300 digits int() raises (sys.get_int_max_str_digits), as it does for "²",
    # which str.isdigit accepts.
    file = sample / path
    text = file.read_text(encoding="utf-8")
    assert written in text
    file.write_text(text.replace(written, replacement, 1), encoding="utf-8")
    exit_code, report = validate_in_child(sample)
    assert exit_code == 1
    assert [(p, c) for p, _, c in codes(report)] == [(f"sample/{path}", code)]
