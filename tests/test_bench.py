"""The benchmark tool: `--only` keeps the stored rows of the steps it does not measure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.__main__ as bench


def test_only_keeps_the_stored_rows_of_steps_not_measured_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = bench.Step("export", "export of the data package", seconds=[9.0], commit="abc1234")
    stale = bench.Step("validate-cold", "full validation", seconds=[99.0], commit="abc1234")
    (tmp_path / "bench-40.json").write_text(
        json.dumps({"args": {"stories": 40}, "steps": [vars(stored), vars(stale)]}),
        encoding="utf-8",
    )
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    fresh = bench.Step("validate-cold", "full validation", seconds=[4.0], commit="def5678+")

    steps = bench.merged(bench.stored_steps(40), [fresh])

    assert [(s.name, s.seconds, s.commit, s.stories) for s in steps] == [
        ("export", [9.0], "abc1234", 0),
        ("validate-cold", [4.0], "def5678+", 0),
    ]
    rows = bench.table(steps)
    assert rows[2].startswith("| export | export of the data package | 9.0 | 9.0 |")
    assert "| abc1234 |" in rows[2]
    assert "| def5678+ |" in rows[3]
