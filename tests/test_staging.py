"""A staging folder: a folder written whole, or an output updated in place with what changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import staging as staging_module
from pipelines.listing import ParallelListing, digest_of, line_of, listing, name_of, stat_of
from pipelines.staging import Staging, applying_marker, half_applied, staged_output


def files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def folders(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir())


def write(root: Path, contents: dict[str, str]) -> None:
    for name, text in contents.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def output(tmp_path: Path) -> Path:
    target = tmp_path / "site"
    write(
        target,
        {
            "index.html": "old home",
            "kept/a.html": "a",
            "gone/b.html": "b",
            "gone/deeper/c.html": "c",
            "tree/x/1.pf": "1",
            "tree/x/2.pf": "2",
            "tree/y/1.pf": "old y",
            "becomes-a-folder": "file",
            "becomes-a-file/d.html": "d",
        },
    )
    return target


def test_a_first_output_is_written_whole_into_a_fresh_folder(tmp_path: Path) -> None:
    target = tmp_path / "site"
    with staged_output(target) as staging:
        assert staging.previous is None
        write(staging.dir, {"index.html": "home", "empty/.keep": ""})
        with pytest.raises(ValueError, match="nothing to keep"):
            staging.keep("index.html")
    assert files(target) == {"index.html": "home", "empty/.keep": ""}
    assert sorted(os.listdir(tmp_path)) == ["site"]


@pytest.mark.parametrize("known", ["walked", "listed"])
def test_a_rebuild_moves_in_what_changed_keeps_the_rest_and_deletes_the_others(
    output: Path, tmp_path: Path, known: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the apply walks the output for files to delete, or is given its listing."""
    unchanged = {name: os.stat(output / name).st_ino for name in ("kept/a.html", "tree/x/1.pf")}
    if known == "listed":
        monkeypatch.setattr(staging_module, "_remove_others", None)  # not walked: not called
    with staged_output(output) as staging:
        assert staging.previous == output
        if known == "listed":
            lines = ParallelListing(output).lines()
            staging.listed = {name_of(line): line for line in lines}
        write(
            staging.dir,
            {
                "index.html": "new home",
                "new/e.html": "e",
                "tree/y/1.pf": "new y",
                "becomes-a-folder/f.html": "f",
                "becomes-a-file": "file",
            },
        )
        (staging.dir / "made-empty").mkdir()
        staging.keep("kept/a.html")
        staging.within("tree").keep_tree("x/")
    assert files(output) == {
        "index.html": "new home",
        "kept/a.html": "a",
        "new/e.html": "e",
        "tree/x/1.pf": "1",
        "tree/x/2.pf": "2",
        "tree/y/1.pf": "new y",
        "becomes-a-folder/f.html": "f",
        "becomes-a-file": "file",
    }
    # Folders emptied are gone; one the build made, empty, is there as in a clean build.
    assert folders(output) == [
        "becomes-a-folder",
        "kept",
        "made-empty",
        "new",
        "tree",
        "tree/x",
        "tree/y",
    ]
    assert {name: os.stat(output / name).st_ino for name in unchanged} == unchanged
    assert sorted(os.listdir(tmp_path)) == ["site"]
    if known == "listed":  # what it leaves is the listing of the output it made
        assert staging.listed is not None
        assert digest_of(staging.listed.values()) == listing(output)[0]
        assert set(staging.listed) == set(files(output))


def test_a_failed_block_leaves_the_output_as_it_was(output: Path, tmp_path: Path) -> None:
    before = files(output)
    with pytest.raises(RuntimeError), staged_output(output) as staging:
        write(staging.dir, {"index.html": "new home"})
        staging.keep("kept/a.html")
        raise RuntimeError("a stage failed")
    assert files(output) == before
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_an_apply_cut_short_is_marked_and_the_next_output_is_written_whole(
    output: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cut_short(source: str, target: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(staging_module, "_move", cut_short)
    with pytest.raises(KeyboardInterrupt), staged_output(output) as staging:
        write(staging.dir, {"index.html": "new home"})
        staging.keep("kept/a.html")
    assert half_applied(output)
    monkeypatch.undo()
    with staged_output(output) as staging:
        assert staging.previous is None  # not trusted: nothing can be kept from it
        write(staging.dir, {"index.html": "newer home"})
    assert files(output) == {"index.html": "newer home"}
    assert not applying_marker(output).exists()
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_only_a_whole_staging_over_an_output_is_applied(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="only a whole staging"):
        Staging(tmp_path / "new", tmp_path / "site", update=False).apply()
    with pytest.raises(ValueError, match="only a whole staging"):
        Staging(tmp_path / "new", tmp_path / "site", update=True).within("data").apply()


def test_a_listing_line_tells_its_files_name_and_stat(tmp_path: Path) -> None:
    (tmp_path / "a b").mkdir()
    (tmp_path / "a b" / "page.html").write_bytes(b"<p>")
    line = line_of(tmp_path, "a b/page.html")
    info = (tmp_path / "a b" / "page.html").stat()
    assert name_of(line) == "a b/page.html"
    assert stat_of(line) == (info.st_size, info.st_ino, info.st_mtime_ns)
