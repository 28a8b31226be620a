"""Incremental builds: the same bytes as a build in one run, and unchanged pages left alone."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipelines import build, snapshot
from pipelines.build import build_all
from pipelines.demo_data import add_story, write_demo_data
from pipelines.website import generator
from pipelines.website.model import Page, contributor_slugs
from tests.conftest import DATA, ROOT, SETTINGS
from tests.trees import Tree, tree


def built_in_one_run(data: Path, tmp_path: Path, settings: Path = SETTINGS) -> Tree:
    """The output of a clean build, without a cache, of a copy of data (in tmp_path/once)."""
    shutil.copytree(data, tmp_path / "once" / "data")
    build_all(tmp_path / "once" / "data", tmp_path / "once" / "site", settings)
    return tree(tmp_path / "once" / "site")


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
    synthetic: Path, tmp_path: Path, render_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = tmp_path / "steps"
    data = steps / "data"
    shutil.copytree(synthetic, data)
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)  # unchanged files come from the snapshot
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
    # Nothing left beside the output (Python may have cached the settings' bytecode there).
    left = sorted(set(os.listdir(tmp_path)) - {"__pycache__"})
    assert left == ["cache", "data", "output", "pelican.conf.py", "theme"]


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
    monkeypatch.setattr(snapshot, "SETTLED_NS", 0)
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
    monkeypatch.setattr(build, "input_digest", lambda d, c: hashed.append(d) or digest(d, c))
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert hashed == [data]


# --- Rendering only the pages whose inputs changed ---------------------------------------


def page_state(cache: Path) -> dict[str, generator.Entry]:
    """The input key and file stat of every data page, as the last build recorded them."""
    (path,) = cache.glob("pages-*.marshal")
    return generator.read_page_state(path)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The address of every page rendered, in one process."""
    monkeypatch.setattr(generator, "PARALLEL_MIN_PAGES", 10**9)
    pages: list[str] = []
    render = generator.CommonsGenerator.render

    def counted(self: generator.CommonsGenerator, page: Page, base: dict[str, object]) -> bytes:
        pages.append(page.save_as)
        return render(self, page, base)

    monkeypatch.setattr(generator.CommonsGenerator, "render", counted)
    return pages


def changed_pages(before: dict[str, bytes], after: dict[str, bytes], planned: set[str]) -> set[str]:
    return {p for p in planned if before.get(p) != after[p]}


def test_a_rebuild_after_one_new_story_renders_only_the_pages_it_changes(
    synthetic: Path, tmp_path: Path, rendered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    planned = set(page_state(cache))
    assert len(planned) == len(rendered)  # every page has a key: none is rendered every time
    before = tree(output)
    rendered.clear()
    stated: list[Path] = []
    unchanged = generator._unchanged

    def spied(previous: Path, entry: generator.Entry) -> generator.Entry | None:
        stated.append(previous)
        return unchanged(previous, entry)

    monkeypatch.setattr(generator, "_unchanged", spied)
    new_id = add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)
    after = tree(output)
    changed = changed_pages(before, after, set(page_state(cache)))
    assert f"stories/{new_id}/index.html" in changed
    assert sorted(rendered) == sorted(changed)
    assert len(rendered) < len(planned) // 2
    # The output is as the last build left it: its listing, taken before the build, tells
    # every kept page's stat, and no page is stat'ed again.
    assert stated == []

    assert after == built_in_one_run(data, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [b"", b"not marshal at all", b"\xe9\x02\x00\x00\x00", "older format"],
    ids=["empty", "garbage", "truncated", "older-format"],
)
def test_a_page_state_that_cannot_be_read_renders_every_page(
    synthetic: Path, tmp_path: Path, rendered: list[str], damage: bytes | str
) -> None:
    import marshal

    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    (path,) = cache.glob("pages-*.marshal")
    if damage == "older format":
        damage = marshal.dumps((generator.KEY_FORMAT - 1, dict(page_state(cache))))
    assert isinstance(damage, bytes)
    path.write_bytes(damage)
    add_story(data, "added1")
    rendered.clear()
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert sorted(rendered) == sorted(page_state(cache))  # every page, none kept on trust
    assert tree(output) == built_in_one_run(data, tmp_path)


def test_the_build_log_counts_pages_rendered_and_written(
    synthetic: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    render_mode: str,
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    planned = len(page_state(cache))
    before = tree(output)
    add_story(data, "added1")
    caplog.set_level(logging.INFO, logger="pipelines.website.generator")
    caplog.clear()  # the first build's line, when an earlier test left INFO on
    build_all(data, output, SETTINGS, cache_dir=cache)
    changed = changed_pages(before, tree(output), set(page_state(cache)))
    (line,) = [m for m in caplog.messages if m.startswith("rendered ")]
    # Each changed page is rendered once and written once; the new story's page is new.
    expected = f"rendered {len(changed)}, wrote {len(changed)} of {planned + 1} pages"
    assert line.startswith(expected)


def test_a_first_build_exports_before_its_pages_and_a_rebuild_beside_them(
    synthetic: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rendering every page beside the export would hold both stages' memory at once; a
    rebuild, which renders few pages, renders them while the package is written."""
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    caplog.set_level(logging.INFO, logger="pipelines.build")
    waited = "waiting for the data package before rendering every page"
    build_all(data, output, SETTINGS, cache_dir=cache)
    messages = [m for m in caplog.messages if m in (waited, "rendering the site")]
    assert messages == [waited, "rendering the site"]
    caplog.clear()
    add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert "rendering the site" in caplog.messages
    assert waited not in caplog.messages


def _rename_provider(data: Path, root: Path) -> list[str]:
    providers = data / "providers.csv"
    lines = providers.read_text(encoding="utf-8").splitlines(keepends=True)
    provider, name = lines[1].split(",")[:2]
    lines[1] = lines[1].replace(f"{provider},{name},", f"{provider},Renamed & <b>new</b>,", 1)
    providers.write_text("".join(lines), encoding="utf-8")
    story = next(s for s in sorted((data / "stories").rglob("*.yaml")) if provider in s.read_text())
    return [f"providers/{provider}/index.html", "providers/index.html", _page(story)]


def _edit_response(data: Path, root: Path) -> list[str]:
    response = sorted((data / "responses").rglob("*.yaml"))[0]
    text = response.read_text(encoding="utf-8")
    story = next(line for line in text.splitlines() if line.startswith("story: "))
    response.write_text(text.replace("text: |\n", "text: |\n  Edited first line.\n", 1))
    return [f"stories/{story.removeprefix('story: ')}/index.html"]


def _relabel_tag(data: Path, root: Path) -> list[str]:
    tags = data / "vocabularies" / "tags.csv"
    text = tags.read_text(encoding="utf-8")
    tags.write_text(text.replace("staff-attitude,Staff attitude,", "staff-attitude,Manner,", 1))
    story = next(
        s for s in sorted((data / "stories").rglob("*.yaml")) if "staff-attitude" in s.read_text()
    )
    return ["tags/staff-attitude/index.html", "tags/index.html", _page(story)]


def _retitle_a_contributors_story(data: Path, root: Path) -> list[str]:
    story = next(
        s for s in sorted((data / "stories").rglob("*.yaml")) if "published" in s.read_text()
    )
    text = story.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title: "))
    story.write_text(text.replace(title, "title: A new title", 1), encoding="utf-8")
    pseudonym = next(line for line in text.splitlines() if "pseudonym: " in line)
    pseudonym = pseudonym.split("pseudonym: ", 1)[1]
    slug = contributor_slugs([pseudonym])[pseudonym]
    return [_page(story), f"contributors/{slug}/index.html"]


def _edit_template(data: Path, root: Path) -> list[str]:
    template = root / "theme" / "templates" / "story.html"
    text = template.read_text(encoding="utf-8")
    template.write_text(text.replace("How to cite", "Citing this story"), encoding="utf-8")
    return [_page(sorted((data / "stories").rglob("*.yaml"))[-1])]


def _edit_setting(data: Path, root: Path) -> list[str]:
    settings = root / "pelican.conf.py"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('("Providers", "providers/")', '("Places", "providers/")'))
    return ["index.html", "providers/index.html", "changes/index.html"]


def _page(story: Path) -> str:
    return f"stories/{story.stem}/index.html"


@pytest.mark.parametrize(
    "change",
    [
        _rename_provider,
        _edit_response,
        _relabel_tag,
        _retitle_a_contributors_story,
        _edit_template,
        _edit_setting,
    ],
)
def test_a_rebuild_renders_every_page_a_change_reaches(
    synthetic: Path, tmp_path: Path, rendered: list[str], change: Any
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    shutil.copytree(ROOT / "themes" / "commons", tmp_path / "theme")
    settings = tmp_path / "pelican.conf.py"
    settings.write_text(
        SETTINGS.read_text(encoding="utf-8")
        + f'\nPATH = "{ROOT / "content"}"\nTHEME = "{tmp_path / "theme"}"\n',
        encoding="utf-8",
    )
    build_all(data, output, settings, cache_dir=cache)
    before = tree(output)
    rendered.clear()
    affected = change(data, tmp_path)
    build_all(data, output, settings, cache_dir=cache)
    after = tree(output)
    changed = changed_pages(before, after, set(page_state(cache)))
    assert set(affected) <= changed
    assert changed <= set(rendered)
    if change not in (_relabel_tag, _edit_template, _edit_setting):  # site-wide inputs
        assert sorted(rendered) == sorted(changed)

    assert after == built_in_one_run(data, tmp_path, settings)


def test_a_page_changed_in_the_output_since_the_last_build_is_rendered_again(
    synthetic: Path, tmp_path: Path, rendered: list[str]
) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    page = sorted(p for p in page_state(cache) if p.startswith("stories/"))[0]
    original = (output / page).read_bytes()
    (output / page).write_bytes(original.replace(b"<h1>", b"<h1>Tampered "))
    rendered.clear()
    add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert page in rendered
    assert (output / page).read_bytes() == original


def _same_size_edit(path: Path) -> bytes:
    """Change path's bytes but not its size or modification time; its original bytes."""
    original = path.read_bytes()
    info = path.stat()
    path.write_bytes(original[:-1] + (b"\n" if original[-1:] != b"\n" else b" "))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    return original


def restore(*folders: Path) -> None:
    """Put folders back as CI restores them from its cache: the same bytes and modification
    times, but not the same inodes."""
    for folder in folders:
        saved = folder.with_name(f"{folder.name}-saved")
        folder.rename(saved)
        shutil.copytree(saved, folder)  # copy2: the same bytes and modification times
        shutil.rmtree(saved)


def test_a_restored_output_with_nothing_changed_is_kept_without_rendering(
    synthetic: Path, tmp_path: Path, rendered: list[str]
) -> None:
    output, cache = tmp_path / "output", tmp_path / "cache"
    build_all(synthetic, output, SETTINGS, cache_dir=cache)
    before = tree(output)
    restore(output, cache)
    restored = stats(output)
    rendered.clear()
    build_all(synthetic, output, SETTINGS, cache_dir=cache)
    assert rendered == []
    assert tree(output) == before
    assert {p: s for p, s in stats(output).items() if p.startswith("data/")} == {
        p: s for p, s in restored.items() if p.startswith("data/")
    }


def test_a_restored_output_and_cache_make_a_rebuild_not_a_clean_build(
    synthetic: Path, tmp_path: Path, rendered: list[str]
) -> None:
    """As CI restores them from its cache: every file has its bytes and times, not its inode."""
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    before = tree(output)
    restore(output, cache)
    restored = stats(output)
    # Files a restore can get wrong without their size or time changing are not trusted.
    page = sorted(p for p in page_state(cache) if p.startswith("stories/"))[0]
    page_bytes = _same_size_edit(output / page)
    table = "data/dimensions.csv"  # a table one more story leaves as it was
    table_bytes = _same_size_edit(output / table)
    rendered.clear()
    new_id = add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)

    after = tree(output)
    changed = changed_pages(before, after, set(page_state(cache)))
    assert f"stories/{new_id}/index.html" in changed
    assert sorted(rendered) == sorted(changed | {page})
    assert len(rendered) < len(page_state(cache)) // 2
    assert (after[page], after[table]) == (page_bytes, table_bytes)
    now = stats(output)
    kept_data = [p for p in restored if p.startswith("data/") and now.get(p) == restored[p]]
    assert len(kept_data) > len([p for p in restored if p.startswith("data/")]) // 2
    assert after == built_in_one_run(data, tmp_path)


# --- Applying a rebuild to the output in place -------------------------------------------


def test_a_story_removed_from_the_data_leaves_the_output(synthetic: Path, tmp_path: Path) -> None:
    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    new_id = add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert (output / "stories" / new_id / "index.html").is_file()
    folder = output.stat().st_ino
    (story,) = (data / "stories").rglob(f"{new_id}.yaml")
    story.unlink()
    build_all(data, output, SETTINGS, cache_dir=cache)
    # The output was updated in place: its page and folder are gone, nothing else is left.
    assert output.stat().st_ino == folder
    assert not (output / "stories" / new_id).exists()
    assert tree(output) == built_in_one_run(data, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "data", "once", "output"]


@pytest.mark.parametrize("touched", [False, True], ids=["as-left", "stray-file"])
def test_a_rebuild_updates_an_output_as_left_without_walking_it(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, touched: bool
) -> None:
    """The output listed while the data is checked is the last build's: the apply deletes
    from that listing and the stamp records the listing updated, not taken again. A file
    put in the output since makes the listing differ: the apply walks it and deletes it."""
    from pipelines import listing, staging

    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    removed = add_story(data, "remove")
    build_all(data, output, SETTINGS, cache_dir=cache)
    if touched:
        (output / "stories" / "stray.html").write_text("not the build's")
    walks: list[Path] = []
    remove_others = staging._remove_others

    def walked(root: Path, *args: Any) -> int:
        walks.append(root)
        return remove_others(root, *args)

    monkeypatch.setattr(staging, "_remove_others", walked)
    (story,) = (data / "stories").rglob(f"{removed}.yaml")
    story.unlink()
    add_story(data, "added1")
    build_all(data, output, SETTINGS, cache_dir=cache)
    assert walks == ([output] if touched else [])
    (stamp,) = cache.glob("build-*.json")
    assert json.loads(stamp.read_text(encoding="utf-8"))["output"] == listing.listing(output)[0]
    assert not (output / "stories" / removed).exists()
    assert tree(output) == built_in_one_run(data, tmp_path)


@pytest.mark.parametrize("stage", ["export", "search"])
def test_a_rebuild_failing_after_the_pages_leaves_the_output_as_it_was(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    from pipelines import export
    from pipelines.search import SearchIndexing

    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    before, contents = stats(output), tree(output)
    add_story(data, "added1")

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"the {stage} stage is on fire")

    if stage == "export":
        monkeypatch.setattr(export, "write_package", fail)
    else:
        monkeypatch.setattr(SearchIndexing, "finish", fail)
    with pytest.raises(RuntimeError, match="on fire"):
        build_all(data, output, SETTINGS, cache_dir=cache)
    assert (stats(output), tree(output)) == (before, contents)
    assert sorted(os.listdir(tmp_path)) == ["cache", "data", "output"]


def test_an_apply_cut_short_is_not_trusted_by_the_next_build(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import staging

    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    build_all(data, output, SETTINGS, cache_dir=cache)
    before = tree(output)
    add_story(data, "added1")
    move = staging._move
    moves: list[str] = []

    def cut_short(source: str, target: str) -> None:
        if len(moves) == 3:
            raise KeyboardInterrupt
        moves.append(target)
        move(source, target)

    monkeypatch.setattr(staging, "_move", cut_short)
    with pytest.raises(KeyboardInterrupt):
        build_all(data, output, SETTINGS, cache_dir=cache)
    monkeypatch.setattr(staging, "_move", move)
    # Three of the new files are in place, the rest of the output is the last build's.
    assert tree(output) != before
    assert staging.half_applied(output)
    folder = output.stat().st_ino
    rebuilt = build_all(data, output, SETTINGS, cache_dir=cache)
    # Neither the build stamp nor the page state trusted it: a fresh folder replaced it.
    assert output.stat().st_ino != folder
    assert not staging.half_applied(output)
    shutil.copytree(data, tmp_path / "once" / "data")
    once = build_all(tmp_path / "once" / "data", tmp_path / "once" / "site", SETTINGS)
    assert tree(output) == tree(tmp_path / "once" / "site")
    assert rebuilt.pages == once.pages


def test_a_marked_output_is_built_again_though_nothing_changed(
    synthetic: Path, tmp_path: Path
) -> None:
    from pipelines.staging import applying_marker

    output, cache = tmp_path / "output", tmp_path / "cache"
    build_all(synthetic, output, SETTINGS, cache_dir=cache)
    before, folder = tree(output), output.stat().st_ino
    # As an apply killed before its first rename leaves it: the stamp alone would trust it.
    applying_marker(output).write_bytes(b"")
    build_all(synthetic, output, SETTINGS, cache_dir=cache)
    assert output.stat().st_ino != folder
    assert tree(output) == before
    assert not applying_marker(output).exists()


@pytest.mark.parametrize("error", [False, True], ids=["valid", "a rule's error"])
def test_the_commons_reaches_the_build_before_the_rules_end(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: bool
) -> None:
    from pipelines import isolated
    from pipelines.validate import rules

    data, output, cache = tmp_path / "data", tmp_path / "output", tmp_path / "cache"
    shutil.copytree(synthetic, data)
    marks = tmp_path / "marks"
    marks.mkdir()
    send_early, run_rules = isolated.send_early, rules.run_rules

    # In the loading child: the commons is sent before the rules run; and a rule may
    # then find an error (a duplicate responder, which no schema check sees).
    def sending(value: object) -> bool:
        (marks / "sent").write_text(type(value).__name__, encoding="utf-8")
        return send_early(value)

    def ruling(context: Any) -> Any:
        (marks / "rules").write_text("sent" if (marks / "sent").exists() else "", "utf-8")
        return run_rules(context)

    monkeypatch.setattr(isolated, "send_early", sending)
    monkeypatch.setattr("pipelines.validate.run_rules", ruling)
    if error:
        responders = data / "responders.csv"
        responders.write_text(
            responders.read_text(encoding="utf-8")
            + responders.read_text(encoding="utf-8").splitlines()[1]
            + "\n",
            encoding="utf-8",
        )
        with pytest.raises(build.BuildFailed) as failed:
            build_all(data, output, SETTINGS, cache_dir=cache)
        assert [p.code for p in failed.value.report.errors] == ["duplicate-id"]
        assert not output.exists()
    else:
        assert build_all(data, output, SETTINGS, cache_dir=cache).stories == 60
        assert tree(output) == built_in_one_run(data, tmp_path)
    assert (marks / "sent").read_text(encoding="utf-8") == "Commons"
    assert (marks / "rules").read_text(encoding="utf-8") == "sent"
