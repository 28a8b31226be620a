"""The data snapshot: the same Dataset and digest with or without it, and never trusted blindly."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from pipelines import readpool, recordfile, snapshot
from pipelines.load import Dataset, input_digest, load_dataset
from pipelines.validate import file_values, validate_dataset
from tests.conftest import INVALID
from tests.invalid_fixtures import apply_fixture, read_fixture
from tests.trees import write_later

BROKEN = "id: 2026-03-02-brokn1\ntitle: [unclosed\n"
UNKNOWN_FIELD = "id: 2026-03-02-unkno1\nprovider: x\nmood: sunny\n"
TODAY = dt.date(2026, 11, 23)


def contents(dataset: Dataset) -> tuple[object, ...]:
    """Everything a Dataset holds, as comparable values."""
    return (
        dataset.display_dir,
        {name: (rows.rows, rows.locations) for name, rows in dataset.tables.items()},
        dataset.issues,
        dataset.files,
        dataset.digest,
        dataset.derived,
    )


@pytest.fixture
def instance(sample: Path) -> Path:
    """The sample instance plus files that cannot be read cleanly, so issues are recorded too."""
    folder = sample / "stories" / "2026"
    (folder / "2026-03-02-brokn1.yaml").write_text(BROKEN, encoding="utf-8")
    (folder / "2026-03-02-unkno1.yaml").write_text(UNKNOWN_FIELD, encoding="utf-8")
    (folder / "notes.txt").write_text("not a story\n", encoding="utf-8")
    return sample


@pytest.fixture
def settle_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count a file as settled as soon as it was changed before being stat'ed: else every
    file a test has just written would be racy and never taken from the snapshot."""
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)


def snapshot_files(cache: Path) -> list[Path]:
    """The snapshot's index files (its bucket files of parses are named after them)."""
    return sorted(p for p in cache.glob("snapshot-*.marshal") if p.stem.count("-") == 1)


def bucket_files(cache: Path) -> dict[str, tuple[int, int]]:
    return {
        p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in cache.glob("snapshot-*.marshal")
        if p.stem.count("-") == 2
    }


def unchanged_count(caplog: pytest.LogCaptureFixture) -> int:
    """How many files the last load took from the snapshot."""
    *_, message = [m for m in caplog.messages if "unchanged since the snapshot" in m]
    return int(message.split()[0])


def record_files(dataset_contents: tuple[object, ...]) -> int:
    files = dataset_contents[3]
    assert isinstance(files, list)
    return sum("/stories/" in name or "/responses/" in name for name in files)


def load(data: Path, cache: Path | None = None) -> Dataset:
    return load_dataset(data, cache_dir=cache, derive=file_values)


def edit(path: Path, text: str) -> None:
    """Write text into path (of the same size), keeping its mtime: only ctime moves."""
    before = path.stat()
    write_later(path, text.encode("utf-8"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns


def test_the_snapshot_gives_the_same_dataset(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    plain = contents(load(instance))
    assert plain[-1]  # derived values are compared too
    cache = tmp_path / "cache"
    assert contents(load(instance, cache)) == plain  # making the snapshot
    assert len(snapshot_files(cache)) == 1
    caplog.set_level(logging.INFO, logger="pipelines.load")
    assert contents(load(instance, cache)) == plain  # reading from it
    assert unchanged_count(caplog) == record_files(plain)


@pytest.mark.parametrize("name", ["email-address", "duplicate-story", "nesting-too-deep"])
def test_the_snapshot_gives_the_same_report(
    name: str, sample: Path, tmp_path: Path, settle_at_once: None
) -> None:
    apply_fixture(read_fixture(INVALID / f"{name}.yaml"), sample)
    expected = validate_dataset(load(sample), today=TODAY).report
    assert expected.problems
    load(sample, tmp_path / "cache")
    assert validate_dataset(load(sample, tmp_path / "cache"), today=TODAY).report == expected


def test_the_simple_reader_gives_what_libyaml_gives(
    instance: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simple = contents(load_dataset(instance))
    monkeypatch.setattr(recordfile, "parse_simple_yaml", lambda text: None)
    assert contents(load_dataset(instance)) == simple


def test_reading_on_every_core_gives_the_same_dataset(
    instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settle_at_once: None
) -> None:
    serial = contents(load(instance))
    monkeypatch.setattr(readpool, "PARALLEL_READ_MIN", 1)
    monkeypatch.setattr(readpool, "READ_CHUNK", 3)
    assert contents(load(instance)) == serial
    assert contents(load(instance, tmp_path / "cache")) == serial
    story = next((instance / "stories").rglob("*.yaml"))
    story.write_text(story.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert contents(load(instance, tmp_path / "cache")) == contents(load(instance))


def test_an_edited_file_with_the_same_size_and_mtime_is_read_again(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    edit(
        instance / "stories" / "2026" / "2026-03-02-unkno1.yaml",
        UNKNOWN_FIELD.replace("mood: sunny", "mood: rainy"),
    )
    caplog.set_level(logging.INFO, logger="pipelines.load")
    expected = contents(load(instance))
    caplog.clear()
    assert contents(load(instance, cache)) == expected
    assert unchanged_count(caplog) == record_files(expected) - 1
    assert input_digest(instance, cache) == input_digest(instance) == expected[4]


def test_a_touched_libyaml_file_is_not_parsed_again(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    caplog.set_level(logging.INFO, logger="pipelines.load")
    load(instance, cache)
    assert "read with libyaml, 1 of them parsed again" in caplog.messages[-2]
    broken = instance / "stories" / "2026" / "2026-03-02-brokn1.yaml"
    edit(broken, BROKEN)
    caplog.clear()
    load(instance, cache)
    assert "1 read with libyaml, 0 of them parsed again" in caplog.messages[-2]
    broken.write_text(BROKEN + "# edited\n", encoding="utf-8")
    caplog.clear()
    load(instance, cache)
    assert "1 read with libyaml, 1 of them parsed again" in caplog.messages[-2]


def test_a_file_changed_just_before_it_was_read_is_read_again(
    instance: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)  # every file was written within SETTLED_NS of this
    caplog.set_level(logging.INFO, logger="pipelines.load")
    expected = contents(load(instance))
    caplog.clear()
    assert contents(load(instance, cache)) == expected
    assert unchanged_count(caplog) == 0
    assert input_digest(instance, cache) == expected[4]


def test_settled_needs_the_last_change_well_before_the_stat() -> None:
    second = 1_000_000_000
    found = (10, 1, 5 * second, 5 * second)
    assert snapshot.settled(found, 5 * second + snapshot.SETTLED_NS + 1) == found
    assert snapshot.settled(found, 5 * second + snapshot.SETTLED_NS) is None
    assert snapshot.settled(found, 5 * second) is None
    assert snapshot.settled(None, 9 * second) is None


def test_deleted_and_added_files(instance: Path, tmp_path: Path, settle_at_once: None) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    stories = sorted((instance / "stories").rglob("*.yaml"))
    gone = stories[0]
    added = gone.with_name("2026-03-03-added1.yaml")
    added.write_text(gone.read_text(encoding="utf-8").replace(gone.stem, added.stem, 1))
    gone.unlink()
    expected = contents(load(instance))
    assert input_digest(instance, cache) == input_digest(instance) == expected[4]
    assert contents(load(instance, cache)) == expected
    assert contents(load(instance, cache)) == expected
    added.unlink()
    assert input_digest(instance, cache) == input_digest(instance) == contents(load(instance))[4]


def test_input_digest_matches_the_loaded_dataset(
    instance: Path, tmp_path: Path, settle_at_once: None
) -> None:
    cache = tmp_path / "cache"
    digest = load_dataset(instance).digest
    assert input_digest(instance) == digest
    assert input_digest(instance, cache) == digest  # no snapshot yet
    assert load(instance, cache).digest == digest
    assert input_digest(instance, cache) == digest  # from the snapshot
    for story in (instance / "stories").rglob("*.yaml"):
        story.unlink()
    assert input_digest(instance, cache) == input_digest(instance) != digest


def test_input_digest_uses_recorded_digests(
    instance: Path, tmp_path: Path, settle_at_once: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    digest = load(instance, cache).digest
    opened: list[str] = []
    real = snapshot.signature

    def counting(path: str | Path) -> Any:
        opened.append(str(path))
        return real(path)

    monkeypatch.setattr(snapshot, "signature", counting)
    monkeypatch.setattr("pipelines.load._file_digest", lambda path: pytest.fail(f"read {path}"))
    assert input_digest(instance, cache) == digest
    assert len(opened) > 10


def damaged(path: Path) -> dict[str, bytes]:
    data = path.read_bytes()
    middle = len(data) // 2
    flipped = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    return {
        "empty": b"",
        "garbage": b"not a snapshot at all",
        "truncated": data[:middle],
        "flipped-bit": flipped,
        "no-magic": data[len(snapshot.MAGIC) :],
    }


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "flipped-bit", "no-magic"])
def test_a_damaged_snapshot_is_ignored(
    damage: str,
    instance: Path,
    tmp_path: Path,
    settle_at_once: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    (path,) = snapshot_files(cache)
    path.write_bytes(damaged(path)[damage])
    caplog.set_level(logging.INFO)
    expected = contents(load(instance))
    assert input_digest(instance, cache) == expected[4]
    assert contents(load(instance, cache)) == expected
    assert any("ignoring the data snapshot" in m for m in caplog.messages)
    assert contents(load(instance, cache)) == expected  # and it was written anew
    assert unchanged_count(caplog) > 0


def test_a_damaged_bucket_of_parses_is_ignored(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    bucket = cache / sorted(bucket_files(cache))[0]
    data = bucket.read_bytes()
    bucket.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    caplog.set_level(logging.INFO)
    expected = contents(load(instance))
    assert contents(load(instance, cache)) == expected
    assert any("a bucket of parses is damaged" in m for m in caplog.messages)
    assert unchanged_count(caplog) == 0


def test_a_new_file_writes_one_bucket_of_parses_again(
    instance: Path, tmp_path: Path, settle_at_once: None
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    before = bucket_files(cache)
    assert len(before) > 2
    story = sorted((instance / "stories").rglob("*.yaml"))[0]
    added = story.with_name("2026-03-03-added1.yaml")
    added.write_text(story.read_text(encoding="utf-8").replace(story.stem, added.stem, 1))
    load(instance, cache)
    after = bucket_files(cache)
    assert len(set(before.items()) - set(after.items())) <= 1  # none if it has a bucket of its own
    assert len(set(after.items()) - set(before.items())) == 1
    assert contents(load(instance, cache)) == contents(load(instance))
    added.unlink()
    load(instance, cache)
    assert bucket_files(cache) == before  # the same bytes, so the same file name


def rewrite(path: Path, change: Any) -> None:
    """Write the snapshot at path again (valid digests) after change(fingerprint, index, parses)."""
    fingerprint, index, buckets = snapshot._read_index(path)
    parses: dict[str, Any] = {}
    for _number, digest in buckets:
        parses.update(snapshot._read_bucket(path, digest))
    written = snapshot.Snapshot(path, "", {}, {}, {})
    written.fingerprint, written.new_index, written.new_parses = change(fingerprint, index, parses)
    written.changed = True
    written.save()


def test_a_snapshot_of_other_code_is_not_used_for_parses(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    (path,) = snapshot_files(cache)

    def wrong_parses(fingerprint: str, index: Any, parses: Any) -> tuple[str, Any, Any]:
        forged: dict[str, Any] = dict.fromkeys(parses, ((({"id": "forged"}, 1, {}, {}), []), None))
        return "other code", index, forged

    rewrite(path, wrong_parses)
    caplog.set_level(logging.INFO)
    expected = contents(load(instance))
    assert input_digest(instance, cache) == expected[4]  # digests hold whatever the code
    assert contents(load(instance, cache)) == expected
    assert any(m.endswith("it is out of date") for m in caplog.messages)


def test_damaged_entries_are_read_again(
    instance: Path, tmp_path: Path, settle_at_once: None
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    (path,) = snapshot_files(cache)

    def wrong_shapes(fingerprint: str, index: Any, parses: Any) -> tuple[str, Any, Any]:
        return (
            fingerprint,
            dict.fromkeys(index, ("wrong", "shape")),
            dict.fromkeys(parses, ("wrong", "shape")),
        )

    rewrite(path, wrong_shapes)
    expected = contents(load(instance))
    assert input_digest(instance, cache) == expected[4]
    assert contents(load(instance, cache)) == expected


def test_a_schema_change_makes_the_parses_stale(
    instance: Path, tmp_path: Path, settle_at_once: None, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    load(instance, cache)
    schema = instance / "schemas" / "stories.json"
    schema.write_text(
        schema.read_text(encoding="utf-8").replace('"Title"', '"Headline"', 1), encoding="utf-8"
    )
    caplog.set_level(logging.INFO, logger="pipelines.snapshot")
    load(instance, cache)
    assert any(m.endswith("it is out of date") for m in caplog.messages)


def test_a_load_of_some_files_neither_reads_nor_writes_the_snapshot(
    instance: Path, tmp_path: Path, settle_at_once: None
) -> None:
    cache = tmp_path / "cache"
    story = next((instance / "stories").rglob("*.yaml"))
    load_dataset(instance, only=[str(story)], cache_dir=cache)
    assert not snapshot_files(cache)
