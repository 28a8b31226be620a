from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

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


def test_the_data_page_waits_for_a_package_exported_meanwhile(sample: Path, tmp_path: Path) -> None:
    """Given a function for the data release (the build exports beside the pages), every
    other page is written before it is asked for, and the site is the one a release given
    at once makes."""
    from pipelines.aggregate import aggregate_dataset
    from pipelines.charts import build_charts
    from pipelines.export import export_package
    from pipelines.website import build_website
    from tests.conftest import SETTINGS
    from tests.trees import tree

    dataset = load_dataset(sample)
    commons = validate_dataset(dataset).commons
    assert commons is not None
    aggregates = aggregate_dataset(commons)
    charts = build_charts(commons, aggregates)
    release = export_package(commons, sample, tmp_path / "package")
    given, waited = tmp_path / "given", tmp_path / "waited"
    build_website(
        commons,
        aggregates,
        given,
        SETTINGS,
        charts=charts,
        package=dataset.package,
        data_release=release,
    )
    asked: list[list[str]] = []

    def pending() -> object:
        asked.append(sorted(p.relative_to(waited).as_posix() for p in waited.rglob("*.html")))
        return release

    build_website(
        commons,
        aggregates,
        waited,
        SETTINGS,
        charts=charts,
        package=dataset.package,
        data_release=pending,  # type: ignore[arg-type]
    )
    assert len(asked) == 1
    assert "data/index.html" not in asked[0]
    story = f"stories/{commons.stories[0].id}/index.html"
    assert {"index.html", story} <= set(asked[0])
    assert tree(waited) == tree(given)
    assert (waited / "data/index.html").is_file()


def test_the_model_and_the_pages_are_made_without_the_cyclic_collector(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 stories the collector walked the growing heap again and again while the
    model and 123,000 page contexts were made (about 1.5 s of CPU): none holds a cycle."""
    import gc

    from pipelines.aggregate import aggregate_dataset
    from pipelines.charts import build_charts
    from pipelines.website import build_website, generator, model
    from tests.conftest import SETTINGS

    dataset = load_dataset(sample)
    commons = validate_dataset(dataset).commons
    assert commons is not None
    aggregates = aggregate_dataset(commons)
    charts = build_charts(commons, aggregates)
    collecting: dict[str, bool] = {}

    def watched(name: str, function: object) -> object:
        def call(*args: object) -> object:
            collecting[name] = gc.isenabled()
            return function(*args)  # type: ignore[operator]

        return call

    monkeypatch.setattr(model, "build_model", watched("model", model.build_model))
    monkeypatch.setattr(generator, "plan_pages", watched("pages", generator.plan_pages))
    assert gc.isenabled()
    build_website(
        commons, aggregates, tmp_path / "out", SETTINGS, charts=charts, package=dataset.package
    )
    assert collecting == {"model": False, "pages": False}
    assert gc.isenabled()


def test_links_are_relative_and_resolve(sample_site: Path) -> None:
    for path in sorted(sample_site.rglob("*.html")):
        if path.name == "404.html":
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for element in soup.select("a[href], link[href]"):
            href = element["href"]
            if href.startswith(("http://", "https://", "#", "mailto:", "data:")):
                continue
            address, _, fragment = href.partition("#")
            address = address.partition("?")[0]
            target = (path.parent / address).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.exists(), f"{path}: {href}"
            if fragment:
                text = target.read_text(encoding="utf-8")
                assert f'id="{fragment}"' in text, f"{path}: {href}"


# --- #4: the whole site ------------------------------------------------------------------

PAYLOAD = "</script><script>alert(1)</script>"
XSS_WEBSITE = "https://brook.example/?a=1&b='onmouseover='alert(2)"


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with a story whose title, pseudonym and text try to break out of scripts,
    and more stories than fit one page."""
    from pipelines.build import build_all
    from tests.conftest import SETTINGS, make_instance

    base = tmp_path_factory.mktemp("xss-site")
    data = make_instance(base / "data")
    story = data / "stories/2026/2026-01-20-cccc03.yaml"
    text = story.read_text(encoding="utf-8")
    text = text.replace(
        "title: \"<script>alert('x')</script> & other things\"", f'title: "{PAYLOAD}"'
    ).replace('pseudonym: "<b>Bold</b>"', f'pseudonym: "{PAYLOAD}"')
    text += f"  And {PAYLOAD} in the text.\n"
    story.write_text(text, encoding="utf-8")
    # Twelve more stories about Brook Surgery (fifteen in all), all tagged booking, fill the
    # front page and two archive pages of five.
    texts = [
        "The phone line opened at eight and I got through quickly.",
        "Parking was hard but the clinic itself ran exactly on time.",
        "My prescription was ready the next morning as they promised.",
        "A locum doctor listened carefully and booked a follow-up.",
        "The online form worked first time and someone called back.",
        "The receptionist found me a cancellation the same afternoon.",
        "Blood test results came by text within three working days.",
        "The nurse explained the vaccine schedule for my daughter.",
        "I waited forty minutes past my time without any update.",
        "The hearing loop at the front desk worked well for me.",
        "They translated the leaflet about my medicine into Polish.",
        "The new repeat prescription system lost my request twice.",
    ]
    for n, text in enumerate(texts, start=1):
        story_id = f"2026-01-{n:02d}-page{n:02d}"
        (data / f"stories/2026/{story_id}.yaml").write_text(
            f"""id: {story_id}
provider: brook-surgery
title: Booking story number {n}
experienced: 2025-12
submitted: 2026-01-{n:02d}
author:
  pseudonym: Pager {n}
  role: patient
tags:
  good: [booking]
status: published
licence: CC-BY-4.0
consent: true
story: |
  {text}
""",
            encoding="utf-8",
        )
    providers = data / "providers.csv"
    providers.write_text(
        providers.read_text(encoding="utf-8").replace("https://brook.example", XSS_WEBSITE),
        encoding="utf-8",
    )
    build_all(data, base / "output", SETTINGS)
    return base / "output"


def json_ld(soup: BeautifulSoup) -> dict:
    (script,) = soup.select('script[type="application/ld+json"]')
    return json.loads(script.string)


def test_payload_never_leaves_its_element(xss_site: Path) -> None:
    story = "stories/2026-01-20-cccc03"
    for address in [story, "providers/brook-surgery", "", "contributors"]:
        for path in (
            sorted((xss_site / address).glob("**/index.html"))[:5]
            if address == "contributors"
            else [xss_site / address / "index.html"]
        ):
            raw = path.read_text(encoding="utf-8")
            assert "<script>alert(1)" not in raw, path
            soup = BeautifulSoup(raw, "html.parser")
            for script in soup.select("script"):
                assert script.get("src") or script.get("type") in {
                    "application/json",
                    "application/ld+json",
                }, path
    # The website (validation allows only http(s) addresses; a javascript: one is refused,
    # and the theme would not link it: test_only_web_addresses_become_links) is an
    # attribute and text that stay what they are.
    provider = page(xss_site, "providers/brook-surgery")
    (link,) = provider.select(".details a[rel=nofollow]")
    assert (link["href"], link.get_text()) == (XSS_WEBSITE, XSS_WEBSITE)
    assert provider.select("[onmouseover]") == []
    assert json_ld(provider)["sameAs"] == XSS_WEBSITE
    soup = page(xss_site, story)
    assert soup.select_one("title").get_text().startswith(PAYLOAD)
    assert soup.select_one("h1").get_text() == PAYLOAD
    review = json_ld(soup)
    assert (review["name"], review["author"]["name"]) == (PAYLOAD, PAYLOAD)
    assert PAYLOAD in review["reviewBody"]
    assert "\\u003c/script\\u003e" in str(soup.select_one('script[type="application/ld+json"]'))


def test_review_markup_on_story_pages(sample_site: Path) -> None:
    review = json_ld(page(sample_site, "stories/2026-01-20-cccc03"))
    assert review["@type"] == "Review"
    assert review["author"] == {"@type": "Person", "name": "<b>Bold</b>"}
    assert review["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 3,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert review["itemReviewed"]["name"] == "Brook Surgery"
    assert review["url"] == "https://sample.example/stories/2026-01-20-cccc03/"
    assert "reviewRating" not in json_ld(page(sample_site, "stories/2026-04-01-ffff06"))


@pytest.mark.parametrize(
    ("provider", "rating"),
    [
        (
            "brook-surgery",
            {
                "@type": "AggregateRating",
                "ratingValue": 3.33,
                "ratingCount": 3,
                "reviewCount": 3,
                "bestRating": 5,
                "worstRating": 1,
            },
        ),
        ("town-library", None),
    ],
)
def test_organization_markup_rates_only_past_the_minimum(
    sample_site: Path, provider: str, rating: dict | None
) -> None:
    organization = json_ld(page(sample_site, f"providers/{provider}"))
    assert organization["@type"] == "Organization"
    assert organization.get("aggregateRating") == rating


def test_every_tag_area_kind_and_contributor_has_a_page(demo_site: Path) -> None:
    from pipelines.website.model import contributor_slugs

    commons = validate_dataset(load_dataset(Path("data"))).commons
    assert commons is not None
    for folder, terms in (
        ("tags", commons.tags),
        ("areas", commons.areas),
        ("kinds", commons.kinds),
    ):
        for term in terms:
            heading = page(demo_site, f"{folder}/{term.id}").select_one("h1")
            assert heading.get_text(" ", strip=True).startswith(term.name), term.id
    published = [s for s in commons.stories if s.published]
    slugs = contributor_slugs(s.author_pseudonym for s in published)
    assert sorted(p.name for p in (demo_site / "contributors").iterdir()) == sorted(slugs.values())
    for pseudonym, slug in slugs.items():
        soup = page(demo_site, f"contributors/{slug}")
        assert soup.select_one("h1").get_text(" ", strip=True).startswith(pseudonym)
        count = sum(1 for s in published if s.author_pseudonym == pseudonym)
        assert soup.select_one(".figures dd").get_text() == str(count)


def test_contributor_addresses_are_stable_and_never_shared() -> None:
    from pipelines.website.model import contributor_slugs

    names = ["Ann", "ann", "Ann!", "Zoë O'Neil", "中文", "Bob"]
    slugs = contributor_slugs(names)
    assert len(set(slugs.values())) == len(names)
    assert slugs == contributor_slugs(reversed(names))
    assert slugs["Zoë O'Neil"].startswith("zoe-o-neil-")
    assert slugs["中文"].startswith("contributor-")
    assert {
        re.fullmatch(r"ann-[0-9a-f]{6,}", slugs[n]) is not None for n in ("Ann", "ann", "Ann!")
    } == {True}
    # Someone new never moves anyone else.
    assert contributor_slugs([*names, "Carol"])["Bob"] == slugs["Bob"]


def test_contributor_page_lists_their_stories(sample_site: Path) -> None:
    from pipelines.website.model import contributor_slugs

    slug = contributor_slugs(["Night Owl"])["Night Owl"]
    soup = page(sample_site, f"contributors/{slug}")
    assert [a.get_text() for a in soup.select(".card-title a")] == [
        "The meals are hot now",
        "Calm and caring at night",
    ]
    story = page(sample_site, "stories/2026-03-15-eeee05")
    assert story.select_one(f"a[href='../../contributors/{slug}/']").get_text() == "Night Owl"


@pytest.mark.parametrize(
    ("address", "providers"),
    [
        ("kinds/gp-practice", ["Brook Surgery"]),
        ("areas/north", ["Hill Ward"]),
        ("providers", ["Brook Surgery", "Hill Ward", "Town Library"]),
    ],
)
def test_filter_pages_work_without_javascript(
    sample_site: Path, address: str, providers: list[str]
) -> None:
    soup = page(sample_site, address)
    rows = soup.select("table.provider-table tbody tr")
    assert [r.select_one("th a").get_text() for r in rows] == providers
    assert soup.select_one("table.provider-table caption").get_text()
    assert [th["scope"] for th in soup.select("table.provider-table thead th")] == ["col"] * 6
    assert soup.select_one("script[src$='theme/js/providers.js']")["type"] == "module"


def test_providers_page_links_every_kind_and_area(sample_site: Path) -> None:
    soup = page(sample_site, "providers")
    links = {a["href"] for a in soup.select(".filters a")}
    assert links == {
        "../kinds/gp-practice/",
        "../kinds/hospital-department/",
        "../kinds/council-service/",
        "../areas/centre/",
        "../areas/north/",
        "../areas/south/",
    }
    row = soup.select_one("tr[data-kind='council-service']")
    assert [c.get_text(" ", strip=True) for c in row.select("td")] == [
        "Council services",
        "South Sampleton",
        "1",
        "too few ratings (0)",
        "0%",
    ]


def test_charts_have_data_a_table_and_a_summary(sample_site: Path) -> None:
    soup = page(sample_site, "providers/brook-surgery")
    sections = soup.select("section[data-chart]")
    assert [s["data-chart"] for s in sections] == ["distribution", "dimensions", "trend"]
    for section in sections:
        values = json.loads(section.select_one("script.chart-values").string)
        table = section.select_one("table")
        assert table.select_one("caption").get_text()
        assert section.select_one(".chart-summary").get_text()
        assert section.select_one(".chart-canvas")["aria-hidden"] == "true"
        if section["data-chart"] != "dimensions":
            assert len(values) == len(table.select("tbody tr"))
        spec = json.loads(soup.select_one(f"#chart-spec-{section['data-chart']}").string)
        assert spec["data"] == {"name": "values"}
    bars = [b["style"] for b in soup.select("section[data-chart='distribution'] .bar")]
    assert bars == ["width: 0%", "width: 100%", "width: 100%", "width: 0%", "width: 100%"]
    assert [s["src"] for s in soup.select("script[src]")] == [
        "../../theme/js/vega.js",
        "../../theme/js/charts.js",
    ]
    assert (sample_site / "theme/js/vega.js").stat().st_size > 100_000


def test_below_the_minimum_only_counts_are_shown(sample_site: Path) -> None:
    soup = page(sample_site, "providers/town-library")
    assert soup.select("section[data-chart]") == []
    assert soup.select_one(".headline-rating").get_text(" ", strip=True) == (
        "0 ratings so far. Mean ratings and charts are shown once there are at least 2."
    )
    assert soup.select("script[src$='vega.js']") == []


def test_provider_page_shows_responses_tags_changes_feed_and_data(sample_site: Path) -> None:
    soup = page(sample_site, "providers/brook-surgery")
    figures = [
        d.get_text(" ", strip=True)
        for d in soup.select("#responses ~ dl dd, section[aria-labelledby='responses'] dd")
    ]
    assert figures[:2] == ["33% (1 of 3)", "2 days"]
    assert [a.get_text() for a in soup.select(".tag-counts a")] == [
        "Booking",
        "Staff attitude",
        "Waiting times",
    ]
    change = soup.select_one(".changes .change-planned").get_text(" ", strip=True)
    assert "Reception announces delays of more than 15 minutes." in change
    hrefs = [a["href"] for a in soup.select("section[aria-labelledby='follow'] a")]
    assert hrefs[:3] == [
        "../../feeds/providers/brook-surgery.atom.xml",
        "../../data/providers/brook-surgery.csv",
        "../../data/providers/brook-surgery.json",
    ]
    assert soup.select_one("link[type='application/atom+xml'][href$='brook-surgery.atom.xml']")


def test_stories_are_paginated_everywhere(xss_site: Path) -> None:
    front = page(xss_site, "providers/brook-surgery")
    newer = page(xss_site, "providers/brook-surgery/page/2")
    oldest = page(xss_site, "providers/brook-surgery/page/1")

    def titles(soup: BeautifulSoup) -> list[str]:
        return [a.get_text() for a in soup.select(".card-title a")]

    # Fifteen stories at five a page: the newest five in front, then pages from the oldest.
    assert len(titles(front)) == 5
    assert titles(newer) == [f"Booking story number {n}" for n in (9, 8, 7, 6, 5)]
    assert titles(oldest) == ["Quick appointment and a kind nurse"] + [
        f"Booking story number {n}" for n in (4, 3, 2, 1)
    ]
    assert [(a.get_text(), a["href"]) for a in front.select(".pagination a")] == [
        ("Page 2", "../../providers/brook-surgery/page/2/"),
        ("Page 1", "../../providers/brook-surgery/page/1/"),
        ("Older page", "../../providers/brook-surgery/page/2/"),
    ]
    assert [(a.get_text(), a["href"], a.get("rel")) for a in oldest.select(".pagination a")] == [
        ("Newer page", "../../../../providers/brook-surgery/page/2/", ["prev"]),
        ("Newest", "../../../../providers/brook-surgery/", None),
        ("Page 2", "../../../../providers/brook-surgery/page/2/", None),
    ]
    assert oldest.select_one(".pagination [aria-current='page']").get_text() == "Page 1"
    assert "stories 1 to 5, newest first" in oldest.select_one("#stories + p").get_text()
    # The summary is on the front page only.
    assert newer.select("section[data-chart]") == [] and front.select("section[data-chart]")
    assert oldest.select_one("title").get_text().startswith("Brook Surgery (page 1)")
    tag = page(xss_site, "tags/booking/page/1")
    assert titles(tag) == ["Quick appointment and a kind nurse"] + [
        f"Booking story number {n}" for n in (4, 3, 2, 1)
    ]
    assert tag.select_one("h1").get_text(" ", strip=True) == "Booking Tag"
    assert len(titles(page(xss_site, "tags/booking"))) == 8
    assert not (xss_site / "tags/booking/page/2").exists()


def test_home_page(sample_site: Path) -> None:
    soup = page(sample_site, "")
    figures = {
        d.select_one("dt").get_text(): d.select_one("dd").get_text(" ", strip=True)
        for d in soup.select(".figures div")
    }
    assert figures == {
        "Stories": "7",
        "Providers": "3",
        "Stories with a response": "29%",
        "Changes made": "1",
        "Mean overall rating": "3.8 out of 5, from 6 ratings",
    }
    assert [s["data-chart"] for s in soup.select("section[data-chart]")] == ["site-trend"]
    static = soup.select_one("section[data-chart='site-trend'] img.chart-static")
    assert static["alt"] == ""
    assert (sample_site / static["src"]).read_text(encoding="utf-8").startswith("<svg")
    assert (
        len(
            soup.select(
                "#latest ~ .cards .story-card, section[aria-labelledby='latest'] .story-card"
            )
        )
        == 6
    )
    changes = soup.select("section[aria-labelledby='latest-changes'] .change")
    assert [c.select_one("strong").get_text() for c in changes] == ["Change made"]
    assert soup.select_one("a[href='contribute/']")


def test_changes_page(sample_site: Path) -> None:
    soup = page(sample_site, "changes")
    figures = [d.get_text() for d in soup.select(".figures dd")]
    assert figures == ["1", "1"]
    changes = soup.select(".changes .change")
    assert [c.select_one("strong").get_text() for c in changes] == [
        "Change made",
        "Change planned",
    ]
    assert "confirmed by 1 later story" in changes[0].get_text(" ", strip=True)
    assert changes[0].select("a")[1]["href"] == (
        "../stories/2026-02-01-dddd04/#response-2026-02-10-resp02"
    )
    assert soup.select(".pagination") == []


def test_story_page_links_tags_and_confirmed_changes(sample_site: Path) -> None:
    soup = page(sample_site, "stories/2026-03-15-eeee05")
    assert [a["href"] for a in soup.select("a.tag")] == ["../../tags/food/"]
    confirmed = soup.select_one(".confirmed li")
    assert "Meals are delivered on heated trolleys." in confirmed.get_text()
    assert confirmed.select_one("a")["href"] == (
        "../../stories/2026-02-01-dddd04/#response-2026-02-10-resp02"
    )
    details = {
        dt.get_text(): dd.get_text(" ", strip=True)
        for dt, dd in zip(soup.select(".details dt"), soup.select(".details dd"), strict=True)
    }
    assert details["When it happened"] == "March 2026"
    assert details["Licence"] == "Creative Commons Attribution 4.0 International"


def test_every_page_has_one_h1_landmarks_and_headings_in_order(sample_site: Path) -> None:
    for path in sorted(sample_site.rglob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert len(soup.select("h1")) == 1, path
        assert (
            len(soup.select("main")) == 1
            and soup.select_one("header")
            and soup.select_one("footer")
        )
        levels = [int(h.name[1]) for h in soup.select("h1, h2, h3, h4, h5, h6")]
        assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), (path, levels)
        for table in soup.select("table"):
            assert table.select_one("caption"), path
        nav = [a["href"] for a in soup.select("header nav a")]
        assert any(h.endswith("data/") for h in nav), path


def test_no_external_resources(sample_site: Path) -> None:
    for path in sorted(sample_site.rglob("*.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for element in soup.select("script[src], link[href], img[src]"):
            address = element.get("src") or element.get("href")
            if element.name == "link" and element.get("rel") == ["icon"]:
                assert address == "data:,"
                continue
            assert not re.match(r"^[a-z]+:", address) and not address.startswith("//"), (
                path,
                address,
            )


@pytest.mark.parametrize(
    ("address", "linked"),
    [
        ("https://example.org/a", "https://example.org/a"),
        (" HTTP://example.org", "HTTP://example.org"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("//example.org", None),
        (None, None),
    ],
)
def test_only_web_addresses_become_links(address: str | None, linked: str | None) -> None:
    from pipelines.website.filters import web_address

    assert web_address(address) == linked


@given(
    st.recursive(
        st.text() | st.integers(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=8,
    )
)
def test_script_json_never_ends_its_element_and_round_trips(value: object) -> None:
    from pipelines.website.filters import script_json

    text = str(script_json(value))
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(text) == value


@pytest.mark.parametrize(
    ("number", "archive_pages", "labels"),
    [
        (0, 0, []),
        (0, 1, ["Newest", "Page 1", "Older"]),
        (0, 20, ["Newest", "Page 20", "Page 19", "…", "Page 1", "Older"]),
        (1, 3, ["Newer", "Newest", "Page 3", "Page 2", "Page 1"]),
        (
            7,
            20,
            [
                "Newer",
                "Newest",
                "…",
                "Page 9",
                "Page 8",
                "Page 7",
                "Page 6",
                "Page 5",
                "…",
                "Page 1",
                "Older",
            ],
        ),
        (20, 20, ["Newer", "Newest", "Page 20", "Page 19", "Page 18", "…", "Page 1", "Older"]),
    ],
)
def test_pagination_links_stay_few(number: int, archive_pages: int, labels: list[str]) -> None:
    from pipelines.website.model import page_links

    links = page_links(number, archive_pages)
    shown = []
    for link in links:
        shown += ["…"] if link.gap else []
        shown.append(link.label)
    assert shown == labels
    current = [link.target for link in links if link.current]
    assert current == ([] if archive_pages == 0 else [number])
    if number:
        newer = next(link for link in links if link.rel == "prev")
        assert newer.target == (0 if number == archive_pages else number + 1)


def test_pagination_renders_links_with_their_relations() -> None:
    from jinja2 import Environment, FileSystemLoader

    from pipelines.website.filters import FILTERS
    from pipelines.website.model import Paging
    from tests.conftest import ROOT

    env = Environment(loader=FileSystemLoader(ROOT / "themes/commons/templates"), autoescape=True)
    env.filters.update(FILTERS)
    macro = env.get_template("macros.html").module.pagination  # type: ignore[attr-defined]
    paging = Paging(7, "tags/food/", 121, 140, 20)
    soup = BeautifulSoup(str(macro(paging, "../../../../")), "html.parser")
    assert [(a.get_text(), a["href"]) for a in soup.select("a[rel]")] == [
        ("Newer page", "../../../../tags/food/page/8/"),
        ("Older page", "../../../../tags/food/page/6/"),
    ]
    assert soup.select_one("a:not([rel])")["href"] == "../../../../tags/food/"
    assert soup.select_one("[aria-current='page']").get_text() == "Page 7"
    assert [li.get_text() for li in soup.select("li[aria-hidden]")] == ["…", "…"]


def test_an_archive_page_needs_to_know_only_the_next_three_pages_for_its_links() -> None:
    from pipelines.website.model import links_apart, page_links

    for number in range(31):
        for archive_pages in range(max(1, number), 40):
            told = links_apart(number, archive_pages)
            assert page_links(number, told) == page_links(number, archive_pages)
    assert links_apart(2, 40) == 5 and links_apart(0, 40) == 40


@pytest.mark.parametrize("count", [0, 1, 9, 10, 11, 19, 20, 21, 39, 40, 101])
def test_archive_pages_hold_whole_pages_counted_from_the_oldest(count: int) -> None:
    from pipelines.website.model import archived

    items = list(range(count, 0, -1))  # newest first; item 1 is the oldest
    pages = archived(items, 10)
    front, archive = pages[0], pages[1:]
    assert [i for batch in [front, *reversed(archive)] for i in batch] == items
    assert all(batch == list(range(10 * n, 10 * n - 10, -1)) for n, batch in enumerate(archive, 1))
    assert len(front) == count if count < 20 else 10 <= len(front) < 20


def test_a_new_story_leaves_the_archive_pages_as_they_were() -> None:
    from pipelines.website.model import paged

    def planned(count: int) -> dict[str, Any]:
        items = list(range(count, 0, -1))
        pages = paged("tags/food/", "tag-stories.html", items, 10, {"count": count}, {}, list_of)
        return {p.save_as: p.context for p in pages}

    def list_of(batch: list[int]) -> dict[str, Any]:
        return {"items": batch}

    before, after = planned(65), planned(66)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {"tags/food/index.html"}
    # A new archive page changes the links of the three that were the newest only.
    before, after = planned(69), planned(70)
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        "tags/food/index.html",
        "tags/food/page/6/index.html",
        "tags/food/page/5/index.html",
        "tags/food/page/4/index.html",
        "tags/food/page/3/index.html",
    }
    assert "tags/food/page/6/index.html" not in before


def test_changes_are_paginated(sample: Path) -> None:
    import dataclasses

    from pipelines.aggregate import aggregate_dataset
    from pipelines.charts import build_charts
    from pipelines.website.model import build_model, changes_pages

    dataset = load_dataset(sample)
    commons = validate_dataset(dataset).commons
    assert commons is not None
    made = next(r for r in commons.responses if r.change_status == "made")
    more = tuple(dataclasses.replace(made, id=f"2026-02-10-r{n:05d}") for n in range(120))
    commons = dataclasses.replace(commons, responses=commons.responses + more)
    aggregates = aggregate_dataset(commons)
    model = build_model(commons, aggregates, build_charts(commons, aggregates), dataset.package)
    pages = changes_pages(model)
    assert [(p.save_as, len(p.context["changes"])) for p in pages] == [
        ("changes/index.html", 72),
        ("changes/page/1/index.html", 50),
    ]
    assert "made_count" not in pages[1].context
    assert (pages[0].context["made_count"], pages[0].context["planned_count"]) == (121, 1)
