"""An unchanged export is hard-linked from the previous one, byte for byte what a full export writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.export import export_package
from pipelines.export.release import read_release
from pipelines.load import load_dataset
from tests.conftest import make_instance
from tests.test_export import STORY, commons_of
from tests.trees import tree


def linked(first: Path, second: Path) -> list[bool]:
    """For each file of first, whether second holds the very same file (a hard link)."""
    return [os.stat(first / name).st_ino == os.stat(second / name).st_ino for name in tree(first)]


@pytest.mark.parametrize("with_digest", [True, False])
def test_an_unchanged_package_is_linked_and_byte_identical(
    tmp_path: Path, with_digest: bool
) -> None:
    data = make_instance(tmp_path / "data")
    commons = commons_of(data)
    digest = load_dataset(data).digest if with_digest else None
    first, cache = tmp_path / "first", tmp_path / "cache"
    release = export_package(commons, data, first, None, digest, cache)
    again = export_package(commons, data, tmp_path / "again", first, digest, cache)
    assert again == release
    assert tree(tmp_path / "again") == tree(first)
    assert set(linked(first, tmp_path / "again")) == {True}
    # A file added beside the package (as the site adds its data page) is not the package's.
    (first / "index.html").write_text("<h1>Data</h1>")
    export_package(commons, data, tmp_path / "beside", first, digest, cache)
    assert tree(tmp_path / "beside") == tree(tmp_path / "again")
    assert set(linked(tmp_path / "again", tmp_path / "beside")) == {True}
    # Without the cache there is no record of what the previous export was.
    export_package(commons, data, tmp_path / "uncached", first, digest)
    assert set(linked(tmp_path / "again", tmp_path / "uncached")) == {False}


def test_changed_data_is_exported_again_as_a_full_export_would(tmp_path: Path) -> None:
    data = make_instance(tmp_path / "data")
    first, cache = tmp_path / "first", tmp_path / "cache"
    export_package(commons_of(data), data, first, cache_dir=cache)
    story = data / STORY
    story.write_text(story.read_text().replace("the nurse was kind", "the porter was kind"))
    commons = commons_of(data)
    export_package(commons, data, tmp_path / "again", first, cache_dir=cache)
    export_package(commons, data, tmp_path / "full")
    assert tree(tmp_path / "again") == tree(tmp_path / "full")
    assert b"the porter was kind" in tree(tmp_path / "again")["stories.csv"]
    assert set(linked(tmp_path / "full", tmp_path / "again")) == {False}


@pytest.mark.parametrize("damage", ["grow", "remove", "stamp"])
def test_a_previous_package_that_was_changed_is_not_reused(tmp_path: Path, damage: str) -> None:
    data = make_instance(tmp_path / "data")
    commons = commons_of(data)
    first, cache = tmp_path / "first", tmp_path / "cache"
    export_package(commons, data, first, cache_dir=cache)
    full = tree(first)
    damaged = {"grow": "ratings.csv", "remove": "json/ratings.json"}.get(damage)
    if damage == "grow":
        with (first / "ratings.csv").open("a") as stream:
            stream.write("2026-01-05-aaaa01,overall,1\n")
    elif damage == "remove":
        (first / "json/ratings.json").unlink()
    else:
        (stamp,) = cache.glob("export-*.json")
        stamp.write_text("{not json")
    export_package(commons, data, tmp_path / "again", first, cache_dir=cache)
    assert tree(tmp_path / "again") == full
    # A damaged file is written again; the files still as listed are linked, unless the
    # listing itself is lost.
    for name in full:
        inode = os.stat(tmp_path / "again" / name).st_ino
        same = (first / name).exists() and inode == os.stat(first / name).st_ino
        assert same == (damage != "stamp" and name != damaged), name


def test_export_twice_into_one_folder_links_and_says_how_long(sample: Path, tmp_path: Path) -> None:
    args = ["export", "--data", str(sample), "--output", str(tmp_path / "out")]
    first = CliRunner().invoke(main, args)
    inode = os.stat(tmp_path / "out/stories.csv").st_ino
    second = CliRunner().invoke(main, args)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.stdout == second.stdout
    assert os.stat(tmp_path / "out/stories.csv").st_ino == inode
    assert "the data package is unchanged" in second.stderr
    assert "the data package is unchanged" not in first.stderr
    for result in (first, second):
        assert "loaded and validated in " in result.stderr
        assert " s, exported in " in result.stderr
    assert read_release(tmp_path / "out").version in second.stdout


def test_a_rebuild_links_the_unchanged_package_from_the_last_build(tmp_path: Path) -> None:
    from pipelines.build import build_all
    from tests.conftest import SETTINGS

    data, output, cache = make_instance(tmp_path / "data"), tmp_path / "output", tmp_path / "cache"
    build_all(data, output, SETTINGS, cache_dir=cache)
    before = tree(output / "data")
    inode = os.stat(output / "data/stories.csv").st_ino
    for stamp in cache.glob("build-*.json"):  # so the build runs again, with the same data
        stamp.unlink()
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert tree(output / "data") == before
    assert os.stat(output / "data/stories.csv").st_ino == inode
