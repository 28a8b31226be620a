"""Incremental builds: the same bytes as a build in one run, and unchanged pages left alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipelines import build
from pipelines.build import build_all
from pipelines.demo_data import add_story, write_demo_data
from pipelines.website import generator
from tests.conftest import DATA, ROOT, SETTINGS


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root, by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def stats(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its inode and modification time."""
    return {
        path.relative_to(root).as_posix(): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("synthetic") / "data"
    write_demo_data(data, stories=60, providers=4, seed=3, source=DATA)
    return data


@pytest.fixture(params=["serial", "parallel"])
def render_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Render in one process, or in forked workers even for a small site."""
    monkeypatch.setattr(generator, "PARALLEL_MIN_PAGES", 10**9 if request.param == "serial" else 1)
    return str(request.param)


def test_an_incremental_build_equals_a_build_in_one_run(
    synthetic: Path, tmp_path: Path, render_mode: str
) -> None:
    steps = tmp_path / "steps"
    data = steps / "data"
    shutil.copytree(synthetic, data)
    build_all(data, steps / "output", SETTINGS, cache_dir=steps / "cache")
    new_id = add_story(data, "added1")
    build_all(data, steps / "output", SETTINGS, cache_dir=steps / "cache")

    once = tmp_path / "elsewhere" / "once"
    shutil.copytree(data, once / "data")
    build_all(once / "data", once / "site", SETTINGS)

    assert f"stories/{new_id}/index.html" in tree(once / "site")
    assert tree(steps / "output") == tree(once / "site")


def test_two_builds_in_different_folders_are_byte_identical(
    synthetic: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a" / "data", tmp_path / "b" / "deeper" / "data"
    shutil.copytree(synthetic, first)
    shutil.copytree(synthetic, second)
    build_all(first, tmp_path / "a" / "output", SETTINGS)
    build_all(second, tmp_path / "b" / "site", SETTINGS)
    assert tree(tmp_path / "a" / "output") == tree(tmp_path / "b" / "site")


def test_a_rebuild_with_nothing_changed_leaves_every_file_alone(
    synthetic: Path, tmp_path: Path
) -> None:
    output, cache = tmp_path / "output", tmp_path / "cache"
    build_all(synthetic, output, SETTINGS, cache_dir=cache)
    before = stats(output)
    result = build_all(synthetic, output, SETTINGS, cache_dir=cache)
    assert stats(output) == before
    assert (result.stories, result.providers) == (60, 4)


def test_a_full_rebuild_keeps_unchanged_pages_files(
    synthetic: Path, tmp_path: Path, render_mode: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(synthetic, data)
    output = tmp_path / "output"
    build_all(data, output, SETTINGS)
    before = stats(output)
    new_id = add_story(data, "added1")
    build_all(data, output, SETTINGS)  # no cache: every stage runs, every page is rendered
    after = stats(output)
    stories = {p for p in before if p.startswith("stories/")}
    kept = {p for p in stories if after[p] == before[p]}
    assert f"stories/{new_id}/index.html" in after
    # Only story pages that show something about the new story (its confirmations) can change.
    assert len(kept) >= len(stories) - 2
    assert not any(p.startswith("stories/") and p.endswith(".tmp") for p in after)


def test_a_failed_rebuild_leaves_the_previous_output_untouched(
    synthetic: Path, tmp_path: Path, render_mode: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(synthetic, data)
    output = tmp_path / "output"
    build_all(data, output, SETTINGS, cache_dir=tmp_path / "cache")
    before, contents = stats(output), tree(output)
    # A theme that cannot render a story page fails the build after other pages are done.
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "themes" / "commons", theme)
    (theme / "templates" / "story.html").write_text("{% include 'missing.html' %}", "utf-8")
    settings = tmp_path / "pelican.conf.py"
    settings.write_text(
        SETTINGS.read_text(encoding="utf-8")
        + f'\nPATH = "{ROOT / "content"}"\nTHEME = "{theme}"\n',
        encoding="utf-8",
    )
    add_story(data, "added1")
    with pytest.raises(Exception, match=r"missing\.html"):
        build_all(data, output, settings, cache_dir=tmp_path / "cache")
    assert stats(output) == before
    assert tree(output) == contents
    assert sorted(os.listdir(tmp_path)) == ["cache", "data", "output", "pelican.conf.py", "theme"]


def test_a_rebuild_with_nothing_changed_trusts_the_data_folders_stat(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    monkeypatch.setattr(build, "SETTLED_NS", 0)  # files just copied count as settled
    build_all(data, output, SETTINGS, cache_dir=cache)
    hashed: list[Path] = []
    monkeypatch.setattr(build, "input_digest", lambda d: hashed.append(d) or "changed")
    before = stats(output)
    assert build_all(data, output, SETTINGS, cache_dir=cache).stories == 60
    assert (hashed, stats(output)) == ([], before)


def test_a_file_rewritten_with_its_old_size_and_mtime_is_still_seen(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    monkeypatch.setattr(build, "SETTLED_NS", 0)
    build_all(data, output, SETTINGS, cache_dir=cache)
    story = sorted((data / "stories").rglob("*.yaml"))[0]
    text = story.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    renamed = "title: " + "Q" * (len(title) - len("title: "))
    info = story.stat()
    story.write_text(text.replace(title, renamed, 1), encoding="utf-8")
    os.utime(story, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (story.stat().st_size, story.stat().st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    build_all(data, output, SETTINGS, cache_dir=cache)
    page = output / "stories" / story.stem / "index.html"
    assert renamed.removeprefix("title: ") in page.read_text(encoding="utf-8")


def test_data_changed_moments_before_a_build_is_hashed_on_the_next(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Within SETTLED_NS of the listing, a later write could leave the stat as it was.
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    hashed: list[Path] = []
    digest = build.input_digest
    monkeypatch.setattr(build, "input_digest", lambda d: hashed.append(d) or digest(d))
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert hashed == [data]
