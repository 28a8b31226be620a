"""The build stamp: a rebuild with nothing changed does nothing, unless the output was touched."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines import build, isolated, listing, snapshot
from pipelines.build import build_all
from pipelines.demo_data import add_story, write_demo_data
from pipelines.listing import ParallelListing
from tests.conftest import DATA, SETTINGS


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("stamp")
    data, output, cache = root / "data", root / "output", root / "cache"
    write_demo_data(data, stories=30, providers=3, seed=5, source=DATA)
    build_all(data, output, SETTINGS, cache_dir=cache)
    return data, output, cache


def fresh_copy(built: tuple[Path, Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the built data in tmp_path, with an output and a cache folder not yet made."""
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(built[0], data)
    return data, output, cache


@pytest.mark.parametrize(
    "touch",
    [
        pytest.param(lambda page: page.write_bytes(b"<p>edited by hand</p>"), id="edited"),
        pytest.param(lambda page: page.unlink(), id="deleted"),
        pytest.param(lambda page: page.rename(page.with_name("moved.html")), id="moved"),
    ],
)
def test_a_page_touched_since_the_last_build_is_put_back_with_nothing_else_changed(
    built: tuple[Path, Path, Path], tmp_path: Path, touch: object
) -> None:
    data, output, cache = built
    copy, copy_cache = tmp_path / "output", tmp_path / "cache"
    shutil.copytree(output, copy)
    shutil.copytree(cache, copy_cache)
    # The stamp is kept per output folder: point this copy's at the copy.
    stamp = build.BuildStamp.at(cache, output).path
    (copy_cache / build.BuildStamp.at(copy_cache, copy).path.name).write_bytes(stamp.read_bytes())
    page = copy / "about" / "index.html"
    original = page.read_bytes()
    assert callable(touch)
    touch(page)

    build_all(data, copy, SETTINGS, cache_dir=copy_cache)

    assert page.read_bytes() == original
    assert not (copy / "about" / "moved.html").exists()


def _list_slowly(folder: str, cut: int, skip: frozenset[str]) -> tuple[list[str], int]:
    time.sleep(60)
    return [], 0


def test_the_output_listing_is_given_up_when_not_asked_for(
    built: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, output, _ = built
    monkeypatch.setattr(listing, "_files_under", _list_slowly)
    with ParallelListing(output) as given_up:
        assert given_up.workers
    # Each would list for a minute: none is left running once the block is left.
    assert not any(worker.is_alive() for worker in given_up.workers)


def test_the_output_listing_of_a_missing_folder_is_none(tmp_path: Path) -> None:
    with ParallelListing(tmp_path / "missing") as missing:
        assert missing.digest() is None


def test_the_listing_on_every_core_is_the_listing_on_one(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, output, _ = built
    with ParallelListing(output) as parallel:
        assert parallel.workers
        assert parallel.listed() == listing.listing(output)
    (output / "about" / "index.html").touch()
    with ParallelListing(output) as touched:
        assert touched.listed() != parallel.listed()


def test_the_names_digest_is_the_named_listings(built: tuple[Path, Path, Path]) -> None:
    data, _, _ = built
    skip = frozenset({"stories"})
    assert listing.names_digest(data) == listing.named_listing(data)[1]
    assert listing.names_digest(data, skip) == listing.named_listing(data, skip)[1]
    assert listing.names_digest(data, skip) != listing.names_digest(data)


def test_a_rebuild_after_a_file_is_added_lists_the_output_while_the_data_loads(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    build_all(data, output, SETTINGS, cache_dir=cache)
    before = stats(output)
    add_story(data, "added2")
    loads_started: list[str] = []
    started = build.load_and_validate

    def load(data_dir: Path, cache_dir: Path | None) -> build.Checked:
        loads_started.append("load")
        return started(data_dir, cache_dir)

    listed = listing.ParallelListing.lines

    def lines(self: ParallelListing) -> list[str]:
        # Loaded in this process (below), so the load has begun by the time it is asked.
        assert loads_started == ["load"]
        return listed(self)

    monkeypatch.setattr(isolated, "can_fork", lambda: False)
    monkeypatch.setattr(build, "load_and_validate", load)
    monkeypatch.setattr(ParallelListing, "lines", lines)

    build_all(data, output, SETTINGS, cache_dir=cache)

    # The listing was used: the pages the new story did not reach kept their files.
    after = stats(output)
    pages = [p for p in before if p.startswith("stories/") and p in after]
    assert len(pages) > 20
    assert {p: after[p] for p in pages} == {p: before[p] for p in pages}


def test_a_rebuild_after_a_file_is_added_lists_the_data_while_it_loads(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listing 125,000 files took about a second before the loading child could start.
    data, output, cache = fresh_copy(built, tmp_path)
    monkeypatch.setattr(build, "SETTLED_NS", 0)  # files just copied count as settled
    build_all(data, output, SETTINGS, cache_dir=cache)
    add_story(data, "added3")
    events: list[str] = []
    started, listed = build.load_and_validate, build.InputListing.of

    def load(data_dir: Path, cache_dir: Path | None) -> build.Checked:
        events.append("load")
        return started(data_dir, cache_dir)

    def list_data(data_dir: Path, listed_at: int | None = None) -> build.InputListing:
        events.append("list")
        return listed(data_dir, listed_at)

    monkeypatch.setattr(isolated, "can_fork", lambda: False)  # loaded first, in this process
    monkeypatch.setattr(build, "load_and_validate", load)
    monkeypatch.setattr(build.InputListing, "of", list_data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert events == ["load", "list"]

    # The listing was settled, so the next build trusts it and does nothing.
    events.clear()
    before = stats(output)
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert (events, stats(output)) == (["list"], before)


def test_a_file_changed_after_it_was_read_is_not_trusted_by_the_listing_after(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    monkeypatch.setattr(build, "SETTLED_NS", 0)
    build_all(data, output, SETTINGS, cache_dir=cache)
    add_story(data, "added4")
    story = next((data / "stories").rglob("*.yaml"))
    listed = build.InputListing.of

    def list_data(data_dir: Path, listed_at: int | None = None) -> build.InputListing:
        # Edited after the load read it (in this process, before), before it is listed.
        text = story.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1)
        story.write_text(text, encoding="utf-8")
        return listed(data_dir, listed_at)

    monkeypatch.setattr(isolated, "can_fork", lambda: False)
    monkeypatch.setattr(build.InputListing, "of", list_data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    monkeypatch.setattr(build.InputListing, "of", listed)

    # The edit came after the build began, so its listing is not trusted: the next build
    # reads the edited story rather than finding every file's stat as listed.
    story_id = story.stem
    page = output / "stories" / story_id / "index.html"
    assert "Edited " not in page.read_text(encoding="utf-8")
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert "Edited " in page.read_text(encoding="utf-8")


@pytest.fixture
def digested(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The data folders the build hashes (input_digest) to tell whether anything changed."""
    folders: list[Path] = []
    digest = build.input_digest
    monkeypatch.setattr(build, "input_digest", lambda d, c: folders.append(d) or digest(d, c))
    return folders


def test_a_first_build_does_not_hash_the_data_before_loading_it(
    built: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    digested: list[Path],
) -> None:
    # With no stamp there is no earlier digest to compare with: the load hashes every
    # file as it reads it (at 100,000 stories, hashing them first cost 6-20 s).
    data, output, cache = fresh_copy(built, tmp_path)
    monkeypatch.setattr(build, "SETTLED_NS", 0)  # files just copied count as settled
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert digested == []
    before = stats(output)

    # The stamp it recorded still lets the next build tell that nothing changed.
    build_all(data, output, SETTINGS, cache_dir=cache)

    assert (digested, stats(output)) == ([], before)


def test_data_hashed_on_a_rebuild_with_nothing_changed_is_trusted_by_stat_after(
    built: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    digested: list[Path],
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    monkeypatch.setattr(build, "SETTLED_NS", 0)
    build_all(data, output, SETTINGS, cache_dir=cache)
    stamp = build.BuildStamp.at(cache, output).path
    stored = json.loads(stamp.read_text(encoding="utf-8"))
    stored["inputs"] = None  # as a build leaves it when the data was written just before
    stamp.write_text(json.dumps(stored), encoding="utf-8")
    digested.clear()
    before = stats(output)

    build_all(data, output, SETTINGS, cache_dir=cache)
    build_all(data, output, SETTINGS, cache_dir=cache)

    assert (digested, stats(output)) == ([data], before)


def stats(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_a_rebuild_after_one_new_story_reads_only_that_file(
    built: tuple[Path, Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    digested: list[Path],
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)  # files just copied count as settled
    first = build_all(data, output, SETTINGS, cache_dir=cache)
    add_story(data, "added1")
    digested.clear()
    # Loaded in this process, so that what it logs and hashes is seen here.
    monkeypatch.setattr(isolated, "can_fork", lambda: False)
    caplog.set_level(logging.INFO, logger="pipelines.load")
    caplog.clear()

    result = build_all(data, output, SETTINGS, cache_dir=cache)

    assert result.stories == first.stories + 1
    *_, message = [m for m in caplog.messages if "unchanged since the snapshot" in m]
    record_files = len(list((data / "stories").rglob("*.yaml"))) + len(
        list((data / "responses").rglob("*.yaml"))
    )
    assert message.startswith(f"{record_files - 1} files unchanged since the snapshot")
    # A file was added, so the data changed: it was not hashed to tell.
    assert digested == []


def test_a_rebuild_after_an_edit_hashes_the_data_to_tell_whether_it_changed(
    built: tuple[Path, Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    digested: list[Path],
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    build_all(data, output, SETTINGS, cache_dir=cache)
    digested.clear()
    story = sorted((data / "stories").rglob("*.yaml"))[0]
    before = stats(output)

    # The same names, and bytes written again unchanged: nothing to build.
    story.write_bytes(story.read_bytes())
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert (digested, stats(output)) == ([data], before)

    # A file added: the build runs without hashing the data first.
    (data / "notes.txt").write_text("kept beside the data\n", encoding="utf-8")
    caplog.set_level(logging.INFO, logger="pipelines.build")
    caplog.clear()
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert digested == [data]
    assert not [m for m in caplog.messages if m.startswith("nothing changed")]
    pages = [p for p in stats(output) if p.startswith("stories/")]
    assert {p: stats(output)[p] for p in pages} == {p: before[p] for p in pages}


def test_the_export_and_search_yield_to_the_build_in_a_rebuild_only(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = fresh_copy(built, tmp_path)
    started: list[tuple[str, int]] = []
    start = isolated.Running.__init__

    def recording(
        self: isolated.Running[object], function: Any, args: Any, niceness: int = 0
    ) -> None:
        started.append((function.__name__, niceness))
        start(self, function, args, niceness)

    monkeypatch.setattr(isolated.Running, "__init__", recording)
    build_all(data, output, SETTINGS, cache_dir=cache)
    first = list(started)
    started.clear()
    add_story(data, "added3")
    build_all(data, output, SETTINGS, cache_dir=cache)

    nice = build.BESIDE_NICENESS
    assert first == [("load_and_validate", 0), ("export_into", 0), ("_index", 0)]
    assert started == [("load_and_validate", 0), ("export_into", nice), ("_index", nice)]


def test_a_rebuild_makes_the_feeds_before_it_waits_for_the_data_package(
    built: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.website import files

    data, output, cache = fresh_copy(built, tmp_path)
    build_all(data, output, SETTINGS, cache_dir=cache)
    before = (output / "feeds" / "all.atom.xml").read_bytes()
    add_story(data, "added4")
    events: list[str] = []
    make_feeds, result = files.feed_files, isolated.Running.result

    def feed_files(model: Any) -> dict[str, bytes]:
        events.append("feeds")
        return make_feeds(model)

    def asked(self: isolated.Running[Any]) -> Any:
        events.append(f"result of {self.name}")
        return result(self)

    monkeypatch.setattr(files, "feed_files", feed_files)
    monkeypatch.setattr(isolated.Running, "result", asked)

    build_all(data, output, SETTINGS, cache_dir=cache)

    waits = [e for e in events if e in ("feeds", "result of export_into")]
    assert waits[:2] == ["feeds", "result of export_into"]
    assert events.count("feeds") == 1
    assert (output / "feeds" / "all.atom.xml").read_bytes() != before
