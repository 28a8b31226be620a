"""A changed package keeps each file whose bytes would not change, and copies the zip's
unchanged pieces, byte for byte what a clean export writes."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.export import archive, export_package
from pipelines.export.parts import PackageFiles, environment_key, table_key
from pipelines.export.release import read_release
from pipelines.export.tables import PublishedTable
from tests.conftest import make_instance
from tests.test_export import STORY, commons_of
from tests.trees import tree, write_later

ALWAYS = {"datapackage.json", "CITATION.cff", "manifest.json", "SHA256SUMS"}


def inodes(folder: Path) -> dict[str, int]:
    return {name: os.stat(folder / name).st_ino for name in tree(folder)}


def edit_story(data: Path) -> None:
    story = data / STORY  # a story about brook-surgery
    story.write_text(story.read_text().replace("the nurse was kind", "the porter was kind"))


def test_a_changed_story_rewrites_only_the_files_it_changes(tmp_path: Path) -> None:
    data, out, cache = make_instance(tmp_path / "data"), tmp_path / "out", tmp_path / "cache"
    export_package(commons_of(data), data, out, out, cache_dir=cache)
    before = inodes(out)
    edit_story(data)
    commons = commons_of(data)
    export_package(commons, data, out, out, cache_dir=cache)
    export_package(commons, data, tmp_path / "clean")
    assert tree(out) == tree(tmp_path / "clean")
    after = inodes(out)
    rewritten = {name for name in after if after[name] != before.get(name)}
    zip_name = f"{read_release(out).name}.zip"
    assert rewritten == ALWAYS | {
        "stories.csv",
        "json/stories.json",
        "parquet/stories.parquet",
        "commons.db",
        "providers/brook-surgery.csv",
        "providers/brook-surgery.json",
        zip_name,
    }
    assert "providers/hill-ward.json" not in rewritten and "ratings.csv" not in rewritten


def test_a_file_changed_in_the_previous_folder_is_written_again(tmp_path: Path) -> None:
    data, out, cache = make_instance(tmp_path / "data"), tmp_path / "out", tmp_path / "cache"
    export_package(commons_of(data), data, out, out, cache_dir=cache)
    edit_story(data)
    commons = commons_of(data)
    # Same size, new bytes: the listing no longer matches, so neither file is trusted.
    for name in ("providers/hill-ward.csv", "ratings.csv"):
        text = (out / name).read_bytes()
        write_later(out / name, text[:-2] + b"X\n")
    export_package(commons, data, out, out, cache_dir=cache)
    export_package(commons, data, tmp_path / "clean")
    assert tree(out) == tree(tmp_path / "clean")


def test_the_zip_copies_the_pieces_of_unchanged_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "ZIP_CHUNK", 256)  # many chunks to a member
    deflated: list[bytes] = []
    deflate = archive._deflate

    def counted(chunk: bytes, last: bool) -> bytes:
        deflated.append(chunk)
        return deflate(chunk, last)

    monkeypatch.setattr(archive, "_deflate", counted)
    data, out, cache = make_instance(tmp_path / "data"), tmp_path / "out", tmp_path / "cache"
    export_package(commons_of(data), data, out, out, cache_dir=cache)
    edit_story(data)
    commons = commons_of(data)
    deflated.clear()
    export_package(commons, data, out, out, cache_dir=cache)
    again = len(deflated)
    deflated.clear()
    export_package(commons, data, tmp_path / "clean")
    assert tree(out) == tree(tmp_path / "clean")
    assert 0 < again < len(deflated) / 2


def test_a_previous_zip_that_changed_is_not_copied_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "ZIP_CHUNK", 256)
    data, out, cache = make_instance(tmp_path / "data"), tmp_path / "out", tmp_path / "cache"
    export_package(commons_of(data), data, out, out, cache_dir=cache)
    zip_path = out / f"{read_release(out).name}.zip"
    zip_path.write_bytes(zip_path.read_bytes().replace(b"PK\x03\x04", b"PK\x03\x05"))
    edit_story(data)
    commons = commons_of(data)
    export_package(commons, data, out, out, cache_dir=cache)
    export_package(commons, data, tmp_path / "clean")
    assert tree(out) == tree(tmp_path / "clean")


def published(rows: list[tuple[str, str]]) -> PublishedTable:
    data = pa.table(
        {
            "id": pa.array([r[0] for r in rows], pa.string()),
            "text": pa.array([r[1] for r in rows], pa.string()),
        }
    )
    fields = [{"name": "id", "type": "string"}, {"name": "text", "type": "string"}]
    return PublishedTable("t", "T", "", {"fields": fields}, "stories", data)


def test_a_table_key_follows_the_cells_and_the_schema() -> None:
    environment = environment_key()
    rows = [("a", "é =1"), ("b", "")]
    key = table_key(published(rows), environment)
    assert table_key(published(list(rows)), environment) == key
    assert table_key(published([("a", "é =2"), ("b", "")]), environment) != key
    assert table_key(published([("a", "é =1"), ("b", "x")]), environment) != key
    other = published(rows)
    other.schema["primaryKey"] = ["id"]
    assert table_key(other, environment) != key
    assert table_key(published(rows), environment + "0") != key


def test_bytes_beyond_ascii_from_arrow_are_compared_as_bytes(tmp_path: Path) -> None:
    """Arrow's buffers read as signed chars: compared to bytes, é would never match."""
    from pipelines.export.parts import Earlier, Listed
    from pipelines.staging import Staging

    text = pa.array(["é and ü"], pa.large_string()).buffers()[2]
    assert text is not None
    previous, staging = (
        tmp_path / "previous",
        Staging(tmp_path / "new", tmp_path / "previous", True),
    )
    previous.mkdir()
    staging.dir.mkdir()
    (previous / "p.json").write_bytes(b"[" + text.to_pybytes() + b"]")
    listed = Listed.of(previous / "p.json", "digest", "")
    files = PackageFiles(staging.dir, Earlier(previous, staging, {"p.json": listed}))
    files.put("p.json", [b"[", memoryview(text), b"]"])
    assert staging.kept == {"p.json"} and not (staging.dir / "p.json").exists()
    assert files.sha256["p.json"] == "digest"
