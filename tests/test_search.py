"""The search stage: which pages Pagefind indexes, what goes into the index, and its failures."""

from __future__ import annotations

import base64
import gzip
import json
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipelines import search
from pipelines.build import BuildFailed, build_all
from pipelines.load import load_dataset
from pipelines.records import Commons
from pipelines.search import (
    SHARD_RECORDS,
    SearchError,
    SearchIndexing,
    SearchRecord,
    build_search_index,
    plan_shards,
    plan_words,
    search_records,
    shard_count,
    shard_of,
)
from pipelines.staging import Staging
from pipelines.validate import validate_dataset
from tests.conftest import SETTINGS, make_instance
from tests.trees import tree

PUBLISHED_STORIES = [
    "2026-01-05-aaaa01",
    "2026-01-10-bbbb02",
    "2026-01-20-cccc03",
    "2026-02-01-dddd04",
    "2026-02-20-rdct01",
    "2026-03-15-eeee05",
    "2026-04-01-ffff06",
]
PROVIDERS = ["brook-surgery", "hill-ward", "town-library"]
INDEXED = sorted(
    [f"/providers/{p}/" for p in PROVIDERS] + [f"/stories/{s}/" for s in PUBLISHED_STORIES]
)


def fragments(site: Path) -> dict[str, dict[str, object]]:
    """Pagefind's stored record of each indexed page (gzip, a signature, then JSON), by URL."""
    found = {}
    shards = [s["path"] for s in manifest(site)["shards"]]
    for path in sorted(p for s in shards for p in (site / "pagefind" / s).glob("fragment/*")):
        raw = gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd")
        record = json.loads(raw)
        found[record["url"]] = record
    return found


def manifest(site: Path) -> dict[str, object]:
    return json.loads((site / "pagefind" / "shards.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sample_commons(tmp_path_factory: pytest.TempPathFactory) -> Commons:
    data = make_instance(tmp_path_factory.mktemp("search") / "data")
    commons = validate_dataset(load_dataset(data)).commons
    assert commons is not None
    return commons


@pytest.fixture(scope="module")
def sample_records(sample_commons: Commons) -> list[SearchRecord]:
    return search_records(sample_commons)


def records(count: int) -> list[SearchRecord]:
    return [
        SearchRecord(f"stories/s{n:03d}/", f"Story {n}", f"Story {n}. Text.") for n in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "shards"),
    [(0, 1), (1, 1), (SHARD_RECORDS, 1), (SHARD_RECORDS + 1, 2), (5 * SHARD_RECORDS, 8)],
)
def test_shard_count_is_the_fewest_powers_of_two_that_hold_every_record(
    count: int, shards: int
) -> None:
    assert shard_count(count) == shards


def test_records_go_to_shards_by_address_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SHARD_RECORDS", 4)
    planned = plan_shards(records(20), "en", "pagefind 1")
    assert [s.path for s in planned] == ["0/", "1/", "2/", "3/", "4/", "5/", "6/", "7/"]
    assert sorted(r.url for s in planned for r in s.records) == [r.url for r in records(20)]
    assert all(shard_of(r.url, 8) == int(s.path[0]) for s in planned for r in s.records)
    # One more record changes its own shard's digest only.
    again = plan_shards(
        [*records(20), SearchRecord("stories/new/", "New", "New.")], "en", "pagefind 1"
    )
    changed = [a.path for a, b in zip(planned, again, strict=True) if a.digest != b.digest]
    assert changed == [f"{shard_of('stories/new/', 8)}/"]


@pytest.mark.parametrize(("language", "version"), [("en", "pagefind 2"), ("cy", "pagefind 1")])
def test_a_new_pagefind_or_language_changes_every_digest(language: str, version: str) -> None:
    before = plan_shards(records(3), "en", "pagefind 1")
    after = plan_shards(records(3), language, version)
    assert [a.digest != b.digest for a, b in zip(before, after, strict=True)] == [True]


def test_the_words_index_lists_each_shards_words_and_changes_with_any_shard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(search, "SHARD_RECORDS", 4)
    shards = plan_shards(records(20), "en", "pagefind 1")
    words = plan_words(shards, "en", "pagefind 1")
    assert [(r.url, r.title) for r in words.records] == [
        (f"pagefind/{s.path}", s.path) for s in shards
    ]
    first = shards[0]
    numbers = sorted(int(r.url.split("s")[-1].strip("/")) for r in first.records)
    assert words.records[0].content == " ".join(
        sorted({"text."} | {f"{n}." for n in numbers} | {str(n) for n in numbers} | {"story"})
    )
    again = plan_words(
        plan_shards(
            [*records(20), SearchRecord("stories/new/", "New", "New.")], "en", "pagefind 1"
        ),
        "en",
        "pagefind 1",
    )
    assert again.digest != words.digest


def test_the_words_of_each_shard_are_kept_and_listed_again_only_when_it_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(search, "SHARD_RECORDS", 4)
    cache = tmp_path / "cache"
    listed: list[str] = []
    words_of = search.words_of

    def counted(shard: search.Shard) -> str:
        listed.append(shard.path)
        return words_of(shard)

    shards = plan_shards(records(20), "en", "pagefind 1")
    cold = plan_words(shards, "en", "pagefind 1")
    monkeypatch.setattr(search, "words_of", counted)
    assert plan_words(shards, "en", "pagefind 1", cache) == cold
    assert sorted(listed) == sorted(s.path for s in shards)
    assert len(list(cache.iterdir())) == len(shards)
    # One record more: its shard's words alone are listed again; the others come from the
    # cache, and the shard's old words are forgotten.
    more = plan_shards(
        [*records(20), SearchRecord("stories/new/", "New", "New.")], "en", "pagefind 1"
    )
    fresh = plan_words(more, "en", "pagefind 1")
    listed.clear()
    assert plan_words(more, "en", "pagefind 1", cache) == fresh
    assert listed == [f"{shard_of('stories/new/', len(more))}/"]
    assert len(list(cache.iterdir())) == len(more)
    # Words listed by other code are not used.
    monkeypatch.setattr(search, "_words_code", lambda: "other")
    listed.clear()
    plan_words(more, "en", "pagefind 1", cache)
    assert sorted(listed) == sorted(s.path for s in more)


def test_a_build_keeps_search_words_in_its_cache(tmp_path: Path) -> None:
    data = make_instance(tmp_path / "data")
    build_all(data, tmp_path / "output", SETTINGS, cache_dir=tmp_path / "cache")
    kept = list((tmp_path / "cache" / search.WORDS_CACHE).glob("*.txt"))
    assert len(kept) == len(manifest(tmp_path / "output")["shards"])


def test_index_holds_published_stories_and_providers_only(sample_site: Path) -> None:
    # Not the withdrawn story's tombstone, the 404 page, the home page or any list page.
    assert sorted(fragments(sample_site)) == INDEXED
    shards = manifest(sample_site)["shards"]
    assert [(s["path"], s["records"]) for s in shards] == [("0/", len(INDEXED))]
    entry = json.loads((sample_site / "pagefind" / "0" / "pagefind-entry.json").read_text())
    assert [lang["page_count"] for lang in entry["languages"].values()] == [len(INDEXED)]
    # The language is the instance's, as the pages' <html lang> says (Pagefind lowercases it).
    assert list(entry["languages"]) == ["en-gb"]


def test_a_story_is_indexed_by_its_words_and_what_it_is_about(sample_site: Path) -> None:
    story = fragments(sample_site)["/stories/2026-01-10-bbbb02/"]
    assert story["meta"] == {"title": "Waited forty minutes past my slot"}
    # Title, provider, when, who, the story, its tags, then the response and its change.
    assert story["content"] == (
        "Waited forty minutes past my slot. Brook Surgery. Happened in December 2025. "
        "Shared by Sample Two. Nobody told us the clinic was running late. Forty minutes in a "
        "hot waiting room. Waiting times. We're sorry about the wait. Reception will now tell "
        "everyone when a clinic runs late. Reception announces delays of more than 15 minutes."
    )


def test_a_provider_is_indexed_by_name_kind_area_and_address(sample_site: Path) -> None:
    provider = fragments(sample_site)["/providers/brook-surgery/"]
    assert (provider["meta"], provider["content"]) == (
        {"title": "Brook Surgery"},
        "Brook Surgery. GP practices. Sampleton Centre. 1 Brook Lane, Sampleton. XS1 1AA.",
    )


def test_records_hold_responses_and_tags_and_leave_out_withdrawn_stories(
    sample_commons: Commons,
) -> None:
    commons = sample_commons
    found = {r.url: r for r in search_records(commons)}
    assert sorted(f"/{url}" for url in found) == INDEXED
    for story in commons.stories:
        if story.published:
            record = found[f"stories/{story.id}/"]
            assert record.title == story.title
            for tag in (*story.good, *story.better):
                assert next(t.name for t in commons.tags if t.id == tag) in record.content
        else:
            assert f"stories/{story.id}/" not in found
    answered = [r for r in commons.responses if f"stories/{r.story}/" in found]
    assert answered
    for response in answered:
        assert " ".join(response.text.split()) in found[f"stories/{response.story}/"].content


def test_markup_in_a_story_is_indexed_as_escaped_text(sample_site: Path) -> None:
    story = fragments(sample_site)["/stories/2026-01-20-cccc03/"]
    # Pagefind keeps the text as text; its script escapes < and > when it makes excerpts,
    # and search.js only ever shows them as text (tests/test_browser.py runs it).
    assert story["meta"] == {"title": "<script>alert('x')</script> & other things"}
    assert 'I typed <script>alert("story")</script> here' in str(story["content"])


def test_index_is_the_same_bytes_when_built_again(sample_site: Path, tmp_path: Path) -> None:
    again = build_all(make_instance(tmp_path / "data"), tmp_path / "output", SETTINGS)
    assert tree(again.output / "pagefind") == tree(sample_site / "pagefind")


def test_search_page_works_without_javascript(sample_site: Path) -> None:
    html = (sample_site / "search" / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one('meta[name="robots"]')["content"] == "noindex"
    # The form needs the script; until it runs, the page says how to browse instead.
    assert soup.select_one("form[data-search-form]").has_attr("hidden")
    fallback = soup.select_one("[data-search-fallback]")
    assert not fallback.has_attr("hidden")
    links = [a["href"] for a in fallback.select("a")]
    assert links[0] == "../providers/"
    assert "../tags/" in links
    assert {h for h in links if h.startswith("../kinds/")} and {
        h for h in links if h.startswith("../areas/")
    }
    for href in links:
        assert (sample_site / "search" / href / "index.html").resolve().is_file(), href
    container = soup.select_one("[data-search-bundle]")
    assert (container["data-search-bundle"], container["data-search-root"]) == (
        "../pagefind/",
        "../",
    )
    scripts = [s["src"] for s in soup.select("script[src]")]
    assert scripts == ["../theme/js/search.js"]
    assert (sample_site / "theme" / "js" / "search.js").is_file()


def test_every_page_links_to_search(sample_site: Path) -> None:
    for page in ("index.html", "providers/index.html", "stories/2026-01-10-bbbb02/index.html"):
        soup = BeautifulSoup((sample_site / page).read_text(encoding="utf-8"), "html.parser")
        labels = [a.get_text(strip=True) for a in soup.select("header nav a")]
        assert "Search" in labels, page


def test_a_site_with_nothing_to_search_gets_no_index(tmp_path: Path) -> None:
    (tmp_path / "pagefind").mkdir()
    assert build_search_index(tmp_path, [], "en").pages == 0
    assert not (tmp_path / "pagefind").exists()


def test_missing_pagefind_is_an_operator_error(
    sample_site: Path,
    sample_records: list[SearchRecord],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "nowhere" / "pagefind"))
    with pytest.raises(SearchError) as raised:
        build_search_index(sample_site, sample_records, "en-GB")
    assert str(raised.value) == (
        "the Pagefind program was not found (run make site to install pagefind[bin])"
    )


def failing_pagefind(folder: Path) -> Path:
    program = folder / "pagefind"
    program.write_text("#!/bin/sh\necho 'Error: the index is on fire' >&2\nexit 3\n")
    program.chmod(0o755)
    return program


def test_a_failing_pagefind_fails_the_build_and_keeps_the_old_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_instance(tmp_path / "data")
    output = tmp_path / "output"
    output.mkdir()
    (output / "old.html").write_text("the previous site")
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(failing_pagefind(tmp_path)))
    with pytest.raises(BuildFailed) as raised:
        build_all(data, output, SETTINGS)
    assert str(raised.value) == "Pagefind could not index the site: Error: the index is on fire"
    assert [p.name for p in output.iterdir()] == ["old.html"]
    # Neither the staging folder nor the search mirror is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "output", "pagefind"]


def test_a_pagefind_that_cannot_run_is_an_operator_error(
    sample_site: Path,
    sample_records: list[SearchRecord],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = tmp_path / "site"
    shutil.copytree(sample_site, site)
    program = tmp_path / "pagefind"
    program.write_text("not a program")
    program.chmod(0o644)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(program))
    with pytest.raises(SearchError) as raised:
        build_search_index(site, sample_records, "en-GB")
    assert str(raised.value) == f"could not run Pagefind ({program}): Permission denied"
    # The old index is gone rather than left to answer for pages that have changed.
    assert not (site / "pagefind").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pagefind", "site"]


def test_indexing_again_replaces_the_old_index(
    sample_site: Path, sample_records: list[SearchRecord], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(sample_site, site)
    stale = site / "pagefind" / "0" / "fragment" / "stale.pf_fragment"
    stale.write_bytes(b"old")
    assert build_search_index(site, sample_records, "en-GB").pages == len(INDEXED)
    assert not stale.exists()
    assert tree(site / "pagefind") == tree(sample_site / "pagefind")


def inodes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*.pf_*")}


def test_shards_are_merged_from_the_first_and_unchanged_ones_are_kept(
    sample_records: list[SearchRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "SHARD_RECORDS", 4)
    first = tmp_path / "first"
    result = build_search_index(first, sample_records, "en-GB")
    paths = [s["path"] for s in manifest(first)["shards"]]
    assert (result.pages, result.shards, result.indexed) == (len(INDEXED), len(paths), len(paths))
    assert sorted(fragments(first)) == INDEXED
    # Only words/ carries Pagefind's script, worker and WebAssembly; it has a record a shard.
    words = manifest(first)["words"]
    assert (first / "pagefind" / "words" / "pagefind.js").is_file()
    assert sorted(words["fragments"].values()) == paths
    assert sorted(words["fragments"]) == sorted(
        p.name.removesuffix(".pf_fragment")
        for p in (first / "pagefind" / "words" / "fragment").iterdir()
    )
    for path in paths:
        assert sorted(p.name for p in (first / "pagefind" / path).iterdir() if p.is_file())[:1] == [
            "pagefind-entry.json"
        ]
        assert not list((first / "pagefind" / path).glob("*.js"))
    # One story more: its shard is indexed again, every other shard is kept from the first.
    story = sample_records[-1]
    added = SearchRecord("stories/2026-05-01-zzzz99/", "A new one", "A new one. Kind nurses.")
    second = tmp_path / "second"
    result = build_search_index(second, [*sample_records, added], "en-GB", previous=first)
    assert (result.shards, result.indexed) == (len(paths), 1)
    changed = f"{shard_of(added.url, len(paths))}/"
    assert sorted(result.kept) == sorted(set(paths) - {changed})
    assert {p.split("/")[0] + "/" for p in inodes(second / "pagefind")} == {changed, "words/"}
    assert story.url != added.url
    # The written and the kept indexes are the same bytes as indexing everything afresh.
    fresh = tmp_path / "fresh"
    build_search_index(fresh, [*sample_records, added], "en-GB")
    merged = tree(second / "pagefind")
    for path in result.kept:
        merged.update({f"{path}{k}": v for k, v in tree(first / "pagefind" / path).items()})
    assert tree(fresh / "pagefind") == merged


def test_an_error_from_pagefinds_service_fails_with_its_message(
    sample_records: list[SearchRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in that answers --version, then refuses the first request it is sent.
    program = python_program(
        tmp_path / "pagefind",
        "import base64, json, sys\n"
        "if sys.argv[1] == '--version':\n"
        "    print('pagefind 0.0.0')\n"
        "    sys.exit(0)\n"
        "message = b''\n"
        "while not message.endswith(b','):\n"
        "    message += sys.stdin.buffer.read(1)\n"
        "answer = {'message_id': 1, 'payload': {'type': 'Error', 'message': 'no room'}}\n"
        "sys.stdout.buffer.write(base64.b64encode(json.dumps(answer).encode()) + b',')\n"
        "sys.stdout.flush()\n"
        "sys.stdin.buffer.read()\n",
    )
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(program))
    with pytest.raises(SearchError) as raised:
        build_search_index(tmp_path / "site", sample_records, "en-GB")
    assert str(raised.value) == "Pagefind could not index the site: no room"
    assert not (tmp_path / "site" / "pagefind").exists()


def standin_pagefind(folder: Path, files: dict[str, str]) -> Path:
    """A stand-in Pagefind service that indexes anything and answers GetFiles with files."""
    listed = [
        {"path": path, "content": base64.b64encode(text.encode()).decode()}
        for path, text in files.items()
    ]
    return python_program(
        folder / "pagefind",
        "import base64, json, sys\n"
        "if sys.argv[1] == '--version':\n"
        "    print('pagefind 0.0.0')\n"
        "    sys.exit(0)\n"
        f"files = {listed!r}\n"
        "message = b''\n"
        "while chunk := sys.stdin.buffer.read(1):\n"
        "    if chunk != b',':\n"
        "        message += chunk\n"
        "        continue\n"
        "    request = json.loads(base64.b64decode(message))\n"
        "    message = b''\n"
        "    kind = request['payload']['type']\n"
        "    payload = {'NewIndex': {'type': 'NewIndex', 'index_id': 1},\n"
        "               'GetFiles': {'type': 'GetFiles', 'files': files}}.get(kind)\n"
        "    payload = payload or {'type': 'IndexedFile'}\n"
        "    answer = {'message_id': request['message_id'], 'payload': payload}\n"
        "    sys.stdout.buffer.write(base64.b64encode(json.dumps(answer).encode()) + b',')\n"
        "    sys.stdout.flush()\n",
    )


def python_program(path: Path, source: str) -> Path:
    """An executable at path that runs source with this Python: through sh, since a
    #! line cannot name an interpreter whose path holds a space."""
    path.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(source)} "$@"\n'
    )
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"pagefind-entry.json": "{}", "../escaped.txt": "x"},
            "Pagefind named a file outside its folder: ../escaped.txt",
        ),
        (
            {"pagefind-entry.json": "{}", "/tmp/escaped.txt": "x"},
            "Pagefind named a file outside its folder: /tmp/escaped.txt",
        ),
        ({"fragment/a.pf_fragment": "x"}, "Pagefind wrote no index for words/"),
    ],
)
def test_a_pagefind_that_writes_outside_its_folder_or_no_index_fails(
    sample_records: list[SearchRecord],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    message: str,
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(standin_pagefind(tmp_path, files)))
    with pytest.raises(SearchError) as raised:
        build_search_index(tmp_path / "site", sample_records, "en-GB")
    assert str(raised.value) == message
    assert not (tmp_path / "site" / "pagefind").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pagefind", "site"]


def test_indexing_beside_the_build_moves_its_index_in_or_leaves_nothing(
    sample_commons: Commons, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    indexing = SearchIndexing(sample_commons, tmp_path)
    try:
        assert indexing.finish(Staging(site, tmp_path / "output", update=False)).pages == len(
            INDEXED
        )
    finally:
        indexing.close()
    assert sorted(fragments(site)) == INDEXED
    assert [p.name for p in tmp_path.iterdir()] == ["site"]
    # Closed unfinished, as when another stage fails: its folder goes too.
    stopped = SearchIndexing(sample_commons, tmp_path)
    stopped.close()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_closing_an_index_still_running_stops_it_and_leaves_nothing(
    sample_commons: Commons, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from pipelines import search

    def forever(*args: object) -> list[tuple[str, bytes]]:
        time.sleep(600)
        return []

    monkeypatch.setattr(search, "_index_shard", forever)  # the forked child inherits it
    indexing = SearchIndexing(sample_commons, tmp_path)
    child = indexing._running._child
    time.sleep(0.5)
    assert child.is_alive()
    indexing.close()
    assert not child.is_alive()
    assert list(tmp_path.iterdir()) == []
