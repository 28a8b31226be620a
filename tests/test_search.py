"""The search stage: which pages Pagefind indexes, what goes into the index, and its failures."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipelines.build import BuildFailed, build_all
from pipelines.search import SearchError, asks_not_to_be_indexed, build_search_index
from tests.conftest import SETTINGS, make_instance

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
    for path in sorted((site / "pagefind" / "fragment").glob("*.pf_fragment")):
        raw = gzip.decompress(path.read_bytes()).removeprefix(b"pagefind_dcd")
        record = json.loads(raw)
        found[record["url"]] = record
    return found


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta name="robots" content="noindex">', True),
        ("<meta content='noindex, nofollow' name='ROBOTS'>", True),
        ('<meta name="robots" content="none">', True),
        ('<meta name="robots" content="index, follow">', False),
        ('<meta name="description" content="noindex">', False),
        ("", False),
    ],
)
def test_asks_not_to_be_indexed(head: str, expected: bool) -> None:
    html = f"<!doctype html><html><head>{head}</head><body><p>noindex</p></body></html>"
    assert asks_not_to_be_indexed(html) is expected


def test_index_holds_published_stories_and_providers_only(sample_site: Path) -> None:
    # Not the withdrawn story's tombstone, the 404 page, the home page or any list page.
    assert sorted(fragments(sample_site)) == INDEXED
    entry = json.loads((sample_site / "pagefind" / "pagefind-entry.json").read_text())
    assert [lang["page_count"] for lang in entry["languages"].values()] == [len(INDEXED)]


def test_index_holds_page_text_not_the_shared_header_and_footer(sample_site: Path) -> None:
    story = fragments(sample_site)["/stories/2026-01-10-bbbb02/"]
    assert story["meta"] == {"title": "Waited forty minutes past my slot"}
    content = str(story["content"])
    assert "Nobody told us the clinic was running late." in content
    for shared in ("Skip to main content", "Share your story", "sets no cookies"):
        assert shared not in content


def test_index_leaves_out_labels_and_charts(sample_site: Path) -> None:
    page = sample_site / "providers" / "brook-surgery" / "index.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    content = str(fragments(sample_site)["/providers/brook-surgery/"]["content"])
    assert content.startswith("Brook Surgery. GP practices. Sampleton Centre. 1 Brook Lane")
    charts = [
        c.select_one(".chart-summary").get_text(strip=True) for c in soup.select("[data-chart]")
    ]
    assert charts  # the sample has enough ratings for charts on this page
    assert [summary for summary in charts if summary in content] == []


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
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title><main>Home</main>")
    assert build_search_index(tmp_path).pages == 0
    assert not (tmp_path / "pagefind").exists()


def test_missing_pagefind_is_an_operator_error(
    sample_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "nowhere" / "pagefind"))
    with pytest.raises(SearchError) as raised:
        build_search_index(sample_site)
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
    sample_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    shutil.copytree(sample_site, site)
    program = tmp_path / "pagefind"
    program.write_text("not a program")
    program.chmod(0o644)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(program))
    with pytest.raises(SearchError) as raised:
        build_search_index(site)
    assert str(raised.value) == f"could not run Pagefind ({program}): Permission denied"
    # The old index is gone rather than left to answer for pages that have changed.
    assert not (site / "pagefind").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pagefind", "site"]


def test_indexing_again_replaces_the_old_index(sample_site: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(sample_site, site)
    stale = site / "pagefind" / "fragment" / "stale.pf_fragment"
    stale.write_bytes(b"old")
    assert build_search_index(site).pages == len(INDEXED)
    assert not stale.exists()
    assert tree(site / "pagefind") == tree(sample_site / "pagefind")
