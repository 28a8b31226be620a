from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from pipelines.load import load_dataset
from pipelines.validate import validate_dataset


def page(site: Path, address: str) -> BeautifulSoup:
    return BeautifulSoup((site / address / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_every_provider_and_published_story_has_a_page_and_withdrawn_a_tombstone(
    demo_site: Path,
) -> None:
    commons = validate_dataset(load_dataset(Path("data"))).commons
    assert commons is not None
    assert len(commons.providers) >= 30
    for provider in commons.providers:
        soup = page(demo_site, f"providers/{provider.id}")
        assert soup.select_one("h1").get_text(" ", strip=True).startswith(provider.name)
    withdrawn = [s for s in commons.stories if not s.published]
    assert len(withdrawn) >= 2
    for story in commons.stories:
        soup = page(demo_site, f"stories/{story.id}")
        heading = soup.select_one("h1").get_text(strip=True)
        if story.published:
            assert heading == story.title
            assert soup.select_one(".story-text").get_text(" ", strip=True)
        else:
            assert heading == "This story has been withdrawn"
            assert soup.select_one(".story-text") is None


def test_tombstone_never_shows_the_text(sample_site: Path) -> None:
    soup = page(sample_site, "stories/2026-03-01-wdrn01")
    assert soup.select_one("h1").get_text() == "This story has been withdrawn"
    details = {
        dt.get_text(): dd.get_text()
        for dt, dd in zip(soup.select("dt"), soup.select("dd"), strict=True)
    }
    assert details["Reason"] == "contributor-request"
    assert "10 March 2026" in soup.select_one("main").get_text()


def test_markup_in_a_story_renders_as_text(sample_site: Path) -> None:
    raw = (sample_site / "stories/2026-01-20-cccc03/index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(raw, "html.parser")
    assert soup.select("main script") == []
    assert soup.select_one("h1").get_text() == "<script>alert('x')</script> & other things"
    text = soup.select_one(".story-text").get_text()
    assert '<script>alert("story")</script>' in text
    assert "{{ config }}" in text and "{% raw %}" in text
    assert "&lt;script&gt;" in raw
    assert soup.select("b") == []


def test_provider_page_shows_means_with_counts(sample_site: Path) -> None:
    soup = page(sample_site, "providers/brook-surgery")
    assert "Mean overall rating 3.3 out of 5 from 3 ratings." in soup.select_one(
        ".headline-rating"
    ).get_text(" ", strip=True).replace("  ", " ")
    rows = [
        [c.get_text(strip=True) for c in row.select("th, td")]
        for row in soup.select("#ratings ~ table tbody tr, .data-table tbody tr")
    ]
    assert ["Overall", "3.3", "3"] in rows
    assert ["Communication", "–", "1"] in rows


def test_story_page_shows_responses_changes_and_confirmations(sample_site: Path) -> None:
    soup = page(sample_site, "stories/2026-02-01-dddd04")
    response = soup.select_one("#response-2026-02-10-resp02")
    assert response.select_one("h3").get_text() == "Patient advice team, Hill Ward"
    assert "Change made: Meals are delivered on heated trolleys." in response.select_one(
        ".change"
    ).get_text(" ", strip=True)
    assert response.select_one(".change a")["href"] == "../../stories/2026-03-15-eeee05/"


def test_redacted_story_carries_a_moderation_note(sample_site: Path) -> None:
    soup = page(sample_site, "stories/2026-02-20-rdct01")
    assert "redacted by a moderator on 2 April 2026" in soup.select_one(".notice").get_text()


def test_hand_written_pages_are_published(sample_site: Path) -> None:
    for slug, heading in [
        ("about", "About this site"),
        ("contribute", "Share your story"),
        ("moderation", "Moderation policy"),
    ]:
        assert page(sample_site, slug).select_one("h1").get_text() == heading


def test_every_page_says_the_data_is_fictional(sample_site: Path) -> None:
    for path in sorted(sample_site.rglob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert soup.select_one(".fictional-note"), path


def test_markdown_missing_is_loud(
    monkeypatch: pytest.MonkeyPatch, sample: Path, tmp_path: Path
) -> None:
    import importlib.util

    from pipelines.aggregate import aggregate_dataset
    from pipelines.charts import build_charts
    from pipelines.website import WebsiteError, build_website
    from tests.conftest import SETTINGS

    dataset = load_dataset(sample)
    commons = validate_dataset(dataset).commons
    assert commons is not None
    aggregates = aggregate_dataset(commons)
    charts = build_charts(commons, aggregates)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "markdown" else real(name, *a)
    )
    with pytest.raises(WebsiteError, match="silently skipped"):
        build_website(
            commons, aggregates, tmp_path / "out", SETTINGS, charts=charts, package=dataset.package
        )


def test_links_are_relative_and_resolve(sample_site: Path) -> None:
    for path in sorted(sample_site.rglob("*.html")):
        if path.name == "404.html":
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for element in soup.select("a[href], link[href]"):
            href = element["href"]
            if href.startswith(("http://", "https://", "#", "mailto:")):
                continue
            target = (path.parent / href).resolve()
            assert target.exists() or (target / "index.html").exists(), f"{path}: {href}"
