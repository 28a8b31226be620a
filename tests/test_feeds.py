"""Atom feeds (RFC 4287) and the sitemap: valid XML, required elements, dates from the data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.load import load_dataset
from pipelines.validate import validate_dataset
from pipelines.website.feeds import Feed, atom_feed, fallback_updated
from pipelines.website.sitemap import sitemaps

A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SITE = "https://sample.example/"


def feeds_of(site: Path) -> list[Path]:
    return sorted((site / "feeds").rglob("*.atom.xml"))


def test_there_is_a_feed_for_the_site_every_provider_and_every_tag(sample_site: Path) -> None:
    assert [p.relative_to(sample_site).as_posix() for p in feeds_of(sample_site)] == [
        "feeds/all.atom.xml",
        "feeds/providers/brook-surgery.atom.xml",
        "feeds/providers/hill-ward.atom.xml",
        "feeds/providers/town-library.atom.xml",
        "feeds/tags/booking.atom.xml",
        "feeds/tags/food.atom.xml",
        "feeds/tags/privacy-and-dignity.atom.xml",
        "feeds/tags/staff-attitude.atom.xml",
        "feeds/tags/waiting-times.atom.xml",
    ]


def check_atom(root: ET.Element) -> None:
    """RFC 4287 4.1.1 and 4.1.2: what every feed and entry must carry."""
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    assert RFC3339.fullmatch(root.findtext(f"{A}updated") or "")
    assert root.find(f"{A}author/{A}name") is not None
    assert root.find(f"{A}link[@rel='self']") is not None
    ids = []
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert RFC3339.fullmatch(entry.findtext(f"{A}updated") or "")
        assert entry.findtext(f"{A}author/{A}name")
        assert entry.find(f"{A}link[@rel='alternate']").get("href").startswith(SITE)
        ids.append(entry.findtext(f"{A}id"))
    assert len(ids) == len(set(ids))


def test_every_feed_is_valid_atom(sample_site: Path) -> None:
    for path in feeds_of(sample_site):
        check_atom(ET.parse(path).getroot())


def test_site_feed_entries_newest_first_with_dates_from_the_data(sample_site: Path) -> None:
    root = ET.parse(sample_site / "feeds/all.atom.xml").getroot()
    assert root.findtext(f"{A}id") == SITE + "feeds/all.atom.xml"
    assert root.findtext(f"{A}updated") == "2026-04-01T00:00:00Z"
    entries = [(e.findtext(f"{A}id"), e.findtext(f"{A}updated")) for e in root.findall(f"{A}entry")]
    assert entries[:2] == [
        (SITE + "stories/2026-04-01-ffff06/", "2026-04-01T00:00:00Z"),
        (SITE + "stories/2026-03-15-eeee05/", "2026-03-15T00:00:00Z"),
    ]
    # Withdrawn stories are not in any feed.
    assert SITE + "stories/2026-03-01-wdrn01/" not in [e for e, _ in entries]
    assert len(entries) == 7


def test_contributor_text_is_escaped_in_feeds(sample_site: Path) -> None:
    raw = (sample_site / "feeds/providers/brook-surgery.atom.xml").read_text(encoding="utf-8")
    assert "<script>" not in raw and "<b>" not in raw
    root = ET.fromstring(raw)
    (entry,) = [e for e in root.findall(f"{A}entry") if "cccc03" in (e.findtext(f"{A}id") or "")]
    assert entry.findtext(f"{A}title") == "<script>alert('x')</script> & other things"
    assert entry.findtext(f"{A}author/{A}name") == "<b>Bold</b>"
    assert '<script>alert("story")</script>' in (entry.findtext(f"{A}content") or "")


def test_an_empty_feed_is_dated_from_the_data_not_the_clock(sample: Path) -> None:
    commons = validate_dataset(load_dataset(sample)).commons
    assert commons is not None
    fallback = fallback_updated(commons)
    assert fallback.isoformat() == "2026-04-02"  # the newest moderation entry
    text = atom_feed(
        Feed("feeds/tags/x.atom.xml", "Nothing \x01yet", "tags/x/", []),
        commons.instance,
        {},
        {},
        fallback,
    )
    root = ET.fromstring(text)
    check_atom(root)
    assert (root.findtext(f"{A}updated"), root.findtext(f"{A}title")) == (
        "2026-04-02T00:00:00Z",
        "Nothing yet",
    )


def indexable_pages(site: Path) -> set[str]:
    found = set()
    for path in site.rglob("index.html"):
        text = path.read_text(encoding="utf-8")
        if 'name="robots" content="noindex"' in text:
            continue
        address = path.parent.relative_to(site).as_posix()
        found.add(SITE if address == "." else f"{SITE}{address}/")
    return found


def test_sitemap_lists_every_indexable_page(sample_site: Path) -> None:
    root = ET.parse(sample_site / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset"
    locs = [u.findtext(f"{SM}loc") for u in root.findall(f"{SM}url")]
    assert len(locs) == len(set(locs))
    assert set(locs) == indexable_pages(sample_site)
    assert SITE + "stories/2026-03-01-wdrn01/" not in locs
    assert {SITE, SITE + "about/", SITE + "contribute/", SITE + "changes/"} <= set(locs)


@pytest.mark.parametrize(
    ("count", "files"),
    [
        (3, ["sitemap.xml"]),
        (5, ["sitemap.xml", "sitemaps/1.xml", "sitemaps/2.xml", "sitemaps/3.xml"]),
    ],
)
def test_a_big_sitemap_becomes_an_index(sample: Path, count: int, files: list[str]) -> None:
    commons = validate_dataset(load_dataset(sample)).commons
    assert commons is not None
    addresses = [""] + [f"stories/{n}/" for n in range(count - 1)]
    written = sitemaps(addresses, commons.instance, limit=3 if count == 3 else 2)
    assert sorted(written) == files
    root = ET.fromstring(written["sitemap.xml"])
    if len(files) == 1:
        assert len(root.findall(f"{SM}url")) == 3
    else:
        assert [s.findtext(f"{SM}loc") for s in root.findall(f"{SM}sitemap")] == [
            SITE + f for f in files[1:]
        ]
        parts = [ET.fromstring(written[f]) for f in files[1:]]
        assert sum(len(p.findall(f"{SM}url")) for p in parts) == count


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1), pseudonym=st.text(min_size=1), text=st.text())
def test_any_contributor_text_survives_a_feed(title: str, pseudonym: str, text: str) -> None:
    import datetime as dt

    from pipelines.records import Instance, Story

    instance = Instance(
        "T",
        "P",
        True,
        "D",
        "en",
        "CC-BY-4.0",
        "CC BY",
        "https://l.example",
        "https://s.example",
        "o/r",
        "main",
        1,
        1,
        10,
        10,
        10,
        5,
    )
    story = Story(
        "2026-01-01-abcdef",
        "p",
        title,
        "2025-12",
        dt.date(2026, 1, 1),
        pseudonym,
        "patient",
        "published",
        "CC-BY-4.0",
        True,
        "stories/2026/x.yaml",
        story=text or None,
    )
    root = ET.fromstring(
        atom_feed(
            Feed("feeds/all.atom.xml", "t", "", [story]), instance, {}, {}, dt.date(2026, 1, 1)
        )
    )
    entry = root.find(f"{A}entry")
    assert entry is not None

    def xml_text(value: str) -> str:
        # What XML 1.0 can carry at all; a carriage return is read back as a line feed.
        kept = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", "", value)
        return kept.replace("\r\n", "\n").replace("\r", "\n")

    assert (entry.findtext(f"{A}title") or "") == xml_text(title)
    assert (entry.findtext(f"{A}author/{A}name") or "") == xml_text(pseudonym)
    if text:
        assert (entry.findtext(f"{A}content") or "") == xml_text(text)
