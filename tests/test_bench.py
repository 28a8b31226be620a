"""The benchmark tool: `--only` keeps the stored rows of the steps it does not measure, and
the memory of a step's processes is measured one by one and all at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import bench.__main__ as bench


def test_only_keeps_the_stored_rows_of_steps_not_measured_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = bench.Step("export", "export of the data package", seconds=[9.0], commit="abc1234")
    stale = bench.Step("validate-cold", "full validation", seconds=[99.0], commit="abc1234")
    # Stored out of the bench's order, as an earlier run with --only left them.
    (tmp_path / "bench-40.json").write_text(
        json.dumps({"args": {"stories": 40}, "steps": [vars(stored), vars(stale)]}),
        encoding="utf-8",
    )
    monkeypatch.setattr(bench, "RESULTS", tmp_path)
    fresh = bench.Step("validate-cold", "full validation", seconds=[4.0], commit="def5678+")

    steps = bench.merged(bench.stored_steps(40), [fresh])

    assert [(s.name, s.seconds, s.commit, s.stories) for s in steps] == [
        ("validate-cold", [4.0], "def5678+", 0),
        ("export", [9.0], "abc1234", 0),
    ]
    rows = bench.table(steps)
    assert rows[3].startswith("| export | export of the data package | 9.0 | 9.0 |")
    assert "| abc1234 |" in rows[3]
    assert "| def5678+ |" in rows[2]


@pytest.mark.parametrize(
    ("log", "note"),
    [
        (
            "rendered 273, wrote 273 of 12370 pages (the rest were unchanged) in 3.1 s",
            "rendered 273, wrote 273 of 12370 pages",
        ),
        ("wrote 1188 of 123486 data pages (the rest were unchanged)", "wrote 1188 of 123486 pages"),
    ],
)
def test_a_build_step_notes_the_pages_it_rendered_and_wrote(log: str, note: str) -> None:
    assert bench.pages_note(log) == note


def test_a_log_without_pages_leaves_no_note() -> None:
    assert bench.pages_note("validated 40 files") == ""


def test_the_memory_of_all_a_steps_processes_at_once_is_measured(tmp_path: Path) -> None:
    """Two children holding 100 MB each at the same moment: all at once is their sum,
    where the largest single process holds half of it."""
    if not Path("/proc/self/smaps_rollup").exists():
        pytest.skip("this system has no /proc/PID/smaps_rollup to read memory from")
    script = (
        "import os, time\n"
        "pids = []\n"
        "for _ in range(2):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        block = bytearray(100 * 1024 * 1024)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        time.sleep(3)\n"
        "        os._exit(0)\n"
        "    pids.append(pid)\n"
        "for pid in pids: os.waitpid(pid, 0)\n"
    )
    measured = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.measure", sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        ).stdout
    )
    assert measured["returncode"] == 0
    assert 100 < measured["peak_mb"] < 150
    assert measured["total_peak_mb"] > 200
