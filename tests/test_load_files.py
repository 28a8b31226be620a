"""Which record files a load reads, in which order: the order fixes row order and digests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.load import ReadIssue, _record_file_names
from pipelines.package import read_source_package
from tests.conftest import DATA

STORIES = read_source_package(DATA).table("stories")


def reference(data_dir: Path, table_path: str) -> list[str]:
    """What the load reads, the plain way: every file under the folder (os.walk: no link
    to a folder followed), none whose name starts with a dot, sorted by path parts (as
    sorted(Path.rglob()) sorts)."""
    folder = os.path.join(data_dir, table_path)
    found = []
    for parent, _dirs, names in os.walk(folder):
        relative = os.path.relpath(parent, data_dir).replace(os.sep, "/")
        found.extend(f"{relative}/{name}" for name in names if not name.startswith("."))
    return sorted(found, key=lambda name: name.split("/"))


def listed(data_dir: Path) -> tuple[list[str], list[ReadIssue]]:
    """The files the load reads, by name from data_dir, and the stray files it reports."""
    issues: list[ReadIssue] = []
    names = _record_file_names(data_dir, "data", STORIES, issues)
    prefix = os.path.join(data_dir, "")
    assert all(path.startswith(prefix) for path, _ in names)
    assert [shown for _, shown in names] == [f"data/{p[len(prefix) :]}" for p, _ in names]
    return [path[len(prefix) :] for path, _ in names], issues


def test_files_come_in_the_order_of_their_path_parts(tmp_path: Path) -> None:
    stories = tmp_path / STORIES.path
    names = [
        "2026/a.yaml",
        "2026/a-b.yaml",  # after the folder 2026/a: "a" < "a-b.yaml", though "a/" > "a-"
        "2026/a/b.yaml",
        "2026/a/.hidden.yaml",  # never read
        "2026/.drafts/c.yaml",  # a hidden folder is read, as os.walk reads it
        "2026-x.yaml",
        "2025/z.yaml",
        "2026/B.yaml",
        "2026/notes.txt",  # read, then reported as the wrong type of file
        "2026/é.yaml",
    ]
    for name in names:
        (stories / name).parent.mkdir(parents=True, exist_ok=True)
        (stories / name).write_text("id: x\n", encoding="utf-8")
    (stories / "2026" / "linked").symlink_to(stories / "2025", target_is_directory=True)
    (stories / "2026" / "file-link.yaml").symlink_to(stories / "2025" / "z.yaml")

    found, issues = listed(tmp_path)

    everything = reference(tmp_path, STORIES.path)
    assert found == [name for name in everything if name.endswith(".yaml")]
    assert found[:4] == [
        "stories/2025/z.yaml",
        "stories/2026/.drafts/c.yaml",
        "stories/2026/B.yaml",
        "stories/2026/a/b.yaml",
    ]
    assert "stories/2026/linked/z.yaml" not in found
    assert "stories/2026/file-link.yaml" in found
    assert [(i.path, i.code, i.detail) for i in issues] == [
        ("data/stories/2026/notes.txt", "wrong-file-type", ".txt")
    ]


def test_no_folder_no_files(tmp_path: Path) -> None:
    assert listed(tmp_path) == ([], [])


PART = st.text(alphabet="ab-._/Z0é", min_size=1, max_size=6).filter(
    lambda part: "/" not in part and part not in (".", "..")
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(PART, min_size=1, max_size=3), min_size=1, max_size=12))
def test_any_tree_is_listed_as_the_plain_way_lists_it(paths: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        data = Path(temporary)
        stories = data / STORIES.path
        stories.mkdir()
        for parts in paths:
            target = stories.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("id: x\n", encoding="utf-8")
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                continue  # a file where a folder is wanted, or the other way round
        found, issues = listed(data)
        everything = reference(data, STORIES.path)
        assert found == [name for name in everything if name.endswith(".yaml")]
        assert [i.path for i in issues] == [
            f"data/{name}" for name in everything if not name.endswith(".yaml")
        ]
