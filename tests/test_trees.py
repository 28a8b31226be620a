"""The tests' own folder comparison: a failed one names the files that differ, briefly."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import pytest_assertrepr_compare
from tests.trees import Tree, tree


def test_a_tree_holds_every_file_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "page.html").write_bytes(b"<p>one</p>")
    (tmp_path / "top.txt").write_bytes(b"top")
    assert tree(tmp_path) == {"a/b/page.html": b"<p>one</p>", "top.txt": b"top"}


def test_two_trees_that_differ_are_explained_by_their_files_not_their_bytes() -> None:
    big = b"x" * 1_000_000
    left = Tree({"index.html": b"<h1>\nOne\n</h1>\n", "gone.html": b"", "vega.js": big})
    right = Tree({"index.html": b"<h1>\nTwo\n</h1>\n", "new.html": b"", "vega.js": big})
    explanation = pytest_assertrepr_compare("==", left, right)
    assert explanation is not None
    text = "\n".join(explanation)
    assert "only left: 1 files: gone.html" in text
    assert "only right: 1 files: new.html" in text
    assert "differing: 1 files: index.html" in text
    assert "  -One" in explanation and "  +Two" in explanation
    assert len(text) < 2_000  # not the megabyte both hold


def test_other_comparisons_are_left_to_pytest() -> None:
    assert pytest_assertrepr_compare("==", {"a": b""}, {"b": b""}) is None
    assert pytest_assertrepr_compare("!=", Tree(), Tree({"a": b""})) is None
