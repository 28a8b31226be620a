from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

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
    from tests.test_incremental import tree

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
    # Five more stories about Brook Surgery (eight in all), all tagged booking, fill more than
    # a page of five.
    texts = [
        "The phone line opened at eight and I got through quickly.",
        "Parking was hard but the clinic itself ran exactly on time.",
        "My prescription was ready the next morning as they promised.",
        "A locum doctor listened carefully and booked a follow-up.",
        "The online form worked first time and someone called back.",
    ]
    for n, text in enumerate(texts, start=1):
        story_id = f"2026-01-0{n}-page0{n}"
        (data / f"stories/2026/{story_id}.yaml").write_text(
            f"""id: {story_id}
provider: brook-surgery
title: Booking story number {n}
experienced: 2025-12
submitted: 2026-01-0{n}
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
        providers.read_text(encoding="utf-8").replace(
            "https://brook.example", "javascript:alert(2)"
        ),
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
    provider = page(xss_site, "providers/brook-surgery")
    assert provider.select("a[href^='javascript']") == []
    assert "sameAs" not in json_ld(provider)
    assert "javascript:alert(2)" in provider.select_one(".details").get_text()
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
    first = page(xss_site, "providers/brook-surgery")
    second = page(xss_site, "providers/brook-surgery/page/2")
    assert len(first.select(".story-card")) == 5 and len(second.select(".story-card")) == 3
    assert [(a.get_text(), a["href"]) for a in first.select(".pagination a")] == [
        ("Page 2", "../../providers/brook-surgery/page/2/"),
        ("Next page", "../../providers/brook-surgery/page/2/"),
    ]
    assert second.select_one(".pagination [aria-current='page']").get_text() == "Page 2"
    # The summary is on the first page only.
    assert second.select("section[data-chart]") == [] and first.select("section[data-chart]")
    tag = page(xss_site, "tags/booking/page/2")
    assert [a.get_text() for a in tag.select(".card-title a")] == ["Booking story number 1"]
    assert tag.select_one("h1").get_text(" ", strip=True) == "Booking Tag"


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
    ("number", "count", "labels"),
    [
        (1, 1, []),
        (1, 3, ["Page 1", "Page 2", "Page 3", "Next page"]),
        (
            7,
            20,
            [
                "Previous page",
                "Page 1",
                "…",
                "Page 5",
                "Page 6",
                "Page 7",
                "Page 8",
                "Page 9",
                "…",
                "Page 20",
                "Next page",
            ],
        ),
        (20, 20, ["Previous page", "Page 1", "…", "Page 18", "Page 19", "Page 20"]),
    ],
)
def test_pagination_links_stay_few(number: int, count: int, labels: list[str]) -> None:
    from jinja2 import Environment, FileSystemLoader

    from pipelines.website.filters import FILTERS
    from tests.conftest import ROOT

    env = Environment(loader=FileSystemLoader(ROOT / "themes/commons/templates"), autoescape=True)
    env.filters.update(FILTERS)
    macro = env.get_template("macros.html").module.pagination  # type: ignore[attr-defined]
    soup = BeautifulSoup(str(macro(number, count, "tags/food/", "../../")), "html.parser")
    assert [li.get_text() for li in soup.select("li")] == labels
    current = soup.select_one("[aria-current='page']")
    assert current is None if count == 1 else current.get_text() == f"Page {number}"
    if number > 1:
        previous = soup.select_one("a[rel='prev']")["href"]
        assert previous == (
            "../../tags/food/" if number == 2 else f"../../tags/food/page/{number - 1}/"
        )


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
        ("changes/index.html", 50),
        ("changes/page/2/index.html", 50),
        ("changes/page/3/index.html", 22),
    ]
    assert (pages[0].context["made_count"], pages[0].context["planned_count"]) == (121, 1)
