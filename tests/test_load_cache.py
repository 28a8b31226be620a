"""The parse cache: the same Dataset with or without it, and never trusted blindly."""

from __future__ import annotations

import logging
import marshal
from pathlib import Path

import pytest

from pipelines import load, readpool, recordfile
from pipelines.load import Dataset, input_digest, load_dataset

BROKEN = "id: 2026-03-02-brokn1\ntitle: [unclosed\n"
UNKNOWN_FIELD = "id: 2026-03-02-unkno1\nprovider: x\nmood: sunny\n"


def snapshot(dataset: Dataset) -> tuple[object, ...]:
    """Everything a Dataset holds, as comparable values."""
    return (
        dataset.display_dir,
        {name: (rows.rows, rows.locations) for name, rows in dataset.tables.items()},
        dataset.issues,
        dataset.files,
        dataset.digest,
    )


@pytest.fixture
def instance(sample: Path) -> Path:
    """The sample instance plus files that cannot be read cleanly, so issues are cached too."""
    folder = sample / "stories" / "2026"
    (folder / "2026-03-02-brokn1.yaml").write_text(BROKEN, encoding="utf-8")
    (folder / "2026-03-02-unkno1.yaml").write_text(UNKNOWN_FIELD, encoding="utf-8")
    (folder / "notes.txt").write_text("not a story\n", encoding="utf-8")
    return sample


def cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("parse-*.marshal"))


def test_the_cache_gives_the_same_dataset(instance: Path, tmp_path: Path) -> None:
    plain = snapshot(load_dataset(instance))
    cache = tmp_path / "cache"
    assert snapshot(load_dataset(instance, cache_dir=cache)) == plain  # filling the cache
    assert len(cache_files(cache)) == 1
    assert snapshot(load_dataset(instance, cache_dir=cache)) == plain  # reading from it


def test_the_simple_reader_gives_what_libyaml_gives(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simple = snapshot(load_dataset(instance))
    monkeypatch.setattr(recordfile, "parse_simple_yaml", lambda text: None)
    assert snapshot(load_dataset(instance)) == simple


def test_reading_on_every_core_gives_the_same_dataset(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = snapshot(load_dataset(instance))
    monkeypatch.setattr(readpool, "PARALLEL_READ_MIN", 1)
    monkeypatch.setattr(readpool, "READ_CHUNK", 3)
    assert snapshot(load_dataset(instance)) == serial


def test_only_files_libyaml_reads_are_cached_and_not_read_again(
    instance: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    caplog.set_level(logging.INFO, logger="pipelines.load")
    load_dataset(instance, cache_dir=cache)
    # The broken file is the one outside the simple subset of YAML.
    assert "read 1 files with libyaml; 0 unchanged ones came from the cache" in caplog.messages
    story = next((instance / "stories").rglob("*.yaml"))
    story.write_text(story.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    caplog.clear()
    load_dataset(instance, cache_dir=cache)
    assert "read 0 files with libyaml; 1 unchanged ones came from the cache" in caplog.messages
    broken = instance / "stories" / "2026" / "2026-03-02-brokn1.yaml"
    broken.write_text(BROKEN + "# edited\n", encoding="utf-8")
    caplog.clear()
    load_dataset(instance, cache_dir=cache)
    assert "read 1 files with libyaml; 0 unchanged ones came from the cache" in caplog.messages


def test_an_edited_file_is_read_afresh(instance: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_dataset(instance, cache_dir=cache)
    story = instance / "stories" / "2026" / "2026-03-02-unkno1.yaml"
    story.write_text(UNKNOWN_FIELD.replace("mood", "weather"), encoding="utf-8")
    assert snapshot(load_dataset(instance, cache_dir=cache)) == snapshot(load_dataset(instance))


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not marshal at all",
        marshal.dumps([1, 2, 3]),
        marshal.dumps((load.CACHE_FORMAT, "another fingerprint", {})),
    ],
    ids=["empty", "garbage", "wrong-shape", "other-fingerprint"],
)
def test_a_corrupt_or_stale_cache_is_ignored(instance: Path, tmp_path: Path, damage: bytes) -> None:
    cache = tmp_path / "cache"
    load_dataset(instance, cache_dir=cache)
    (path,) = cache_files(cache)
    path.write_bytes(damage)
    assert snapshot(load_dataset(instance, cache_dir=cache)) == snapshot(load_dataset(instance))


def test_a_truncated_cache_is_ignored(instance: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_dataset(instance, cache_dir=cache)
    (path,) = cache_files(cache)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert snapshot(load_dataset(instance, cache_dir=cache)) == snapshot(load_dataset(instance))


def test_damaged_entries_are_parsed_again(instance: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_dataset(instance, cache_dir=cache)
    (path,) = cache_files(cache)
    version, fingerprint, entries = marshal.loads(path.read_bytes())
    damaged = {shown: (digest, ("wrong", "shape")) for shown, (digest, _packed) in entries.items()}
    path.write_bytes(marshal.dumps((version, fingerprint, damaged)))
    assert snapshot(load_dataset(instance, cache_dir=cache)) == snapshot(load_dataset(instance))


def test_a_schema_change_makes_the_cache_stale(
    instance: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load_dataset(instance, cache_dir=cache)
    schema = instance / "schemas" / "stories.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace('"Title"', '"Headline"', 1), encoding="utf-8"
    )
    caplog.set_level(logging.INFO, logger="pipelines.parsecache")
    load_dataset(instance, cache_dir=cache)
    assert any(m.endswith("it is out of date") for m in caplog.messages)


def test_input_digest_matches_the_loaded_dataset(instance: Path) -> None:
    digest = load_dataset(instance).digest
    assert input_digest(instance) == digest
    story = next((instance / "stories").rglob("*.yaml"))
    story.write_text(story.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert input_digest(instance) != digest
