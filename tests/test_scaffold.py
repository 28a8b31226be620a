from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.load import load_dataset
from pipelines.scaffold import ScaffoldError, new_story_file, new_story_id
from pipelines.validate import validate_dataset


def test_ids_are_the_date_and_six_random_characters() -> None:
    ids = {new_story_id(dt.date(2026, 11, 23)) for _ in range(50)}
    assert all(re.fullmatch(r"2026-11-23-[a-z0-9]{6}", i) for i in ids)
    assert len(ids) == 50


def test_new_story_is_named_by_its_id_and_needs_only_a_pseudonym(sample: Path) -> None:
    path = new_story_file(sample, "brook-surgery", "Kind and quick", today=dt.date(2026, 5, 1))
    assert path.parent == sample / "stories" / "2026"
    text = path.read_text(encoding="utf-8")
    assert f"id: {path.stem}\n" in text
    assert 'title: "Kind and quick"\n' in text
    problems = validate_dataset(load_dataset(sample), today=dt.date(2026, 5, 1)).report.problems
    assert [(p.path.split("/")[-1], p.field, p.code) for p in problems] == [
        (path.name, "author.pseudonym", "missing-value")
    ]
    path.write_text(text.replace("  pseudonym:\n", "  pseudonym: Tester\n"), encoding="utf-8")
    assert validate_dataset(load_dataset(sample), today=dt.date(2026, 5, 1)).report.problems == ()


def test_unknown_provider_suggests_the_nearest(sample: Path) -> None:
    with pytest.raises(ScaffoldError, match='did you mean "brook-surgery"'):
        new_story_file(sample, "brook-surgry", None)


def test_cli_prints_the_new_path(sample: Path) -> None:
    result = CliRunner().invoke(
        main, ["new", "story", "--data", str(sample), "--provider", "hill-ward"]
    )
    assert result.exit_code == 0
    assert Path(result.stdout.strip()).is_file()
    result = CliRunner().invoke(
        main, ["new", "story", "--data", str(sample), "--provider", "nowhere"]
    )
    assert result.exit_code == 2
    assert 'unknown provider "nowhere"' in result.stderr
