"""Files a build keeps for the next one: written whole or not at all, a failure a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines.cachefiles import keep


def test_a_kept_file_is_written_whole_with_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state"
    assert keep(path, b"first", "the state")
    assert keep(path, b"second", "the state")
    assert path.read_bytes() == b"second"
    assert [p.name for p in path.parent.iterdir()] == ["state"]


def test_a_file_that_cannot_be_written_is_a_warning_and_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_bytes(b"a file where a folder would be")
    caplog.set_level(logging.WARNING)
    assert not keep(blocked / "state", b"data", "the page state")
    assert "could not write the page state" in caplog.text
    assert blocked.read_bytes() == b"a file where a folder would be"
    # A folder where the file would be: the temporary is removed, the folder untouched.
    folder = tmp_path / "folder"
    (folder / "inside").mkdir(parents=True)
    assert not keep(folder, b"data", "the build stamp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "folder"]


def test_writing_whole_raises_for_its_caller_and_leaves_no_temporary(tmp_path: Path) -> None:
    from pipelines.cachefiles import write_whole

    with pytest.raises(OSError):
        write_whole(tmp_path / "missing" / "bucket", b"data")
    write_whole(tmp_path / "bucket", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["bucket"]
