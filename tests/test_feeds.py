"""Atom feeds (RFC 4287) and the sitemap: valid XML, required elements, dates from the data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.load import load_dataset
from pipelines.records import Instance, Story
from pipelines.validate import validate_dataset
from pipelines.website.feeds import (
    ATOM,
    XML_DECLARATION,
    AtomWriter,
    Feed,
    atom_feed,
    fallback_updated,
)
from pipelines.website.jsonld import absolute
from pipelines.website.sitemap import NAMESPACE as SITEMAP
from pipelines.website.sitemap import sitemaps

A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
SITE = "https://sample.example/"
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
INSTANCE = Instance(
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
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None and (link.get("href") or "").startswith(SITE)
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
    instance = INSTANCE
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


def etree_feed(
    feed: Feed,
    instance: Instance,
    provider_names: dict[str, str],
    tag_names: dict[str, str],
    empty_updated: dt.date,
) -> bytes:
    """The feed built with xml.etree, as the website wrote it before writing XML as text."""

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrs)
        if text is not None:
            element.text = NOT_XML.sub("", text)
        return element

    def stamp(day: dt.date) -> str:
        return f"{day.isoformat()}T00:00:00Z"

    root = ET.Element("feed", {"xmlns": ATOM, "xml:lang": instance.language})
    feed_url = absolute(instance, feed.save_as)
    add(root, "id", feed_url)
    add(root, "title", feed.title)
    add(root, "subtitle", instance.description)
    add(root, "updated", stamp(feed.stories[0].submitted if feed.stories else empty_updated))
    author = add(root, "author")
    add(author, "name", instance.title)
    add(author, "uri", instance.site_url)
    add(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    add(root, "link", rel="alternate", type="text/html", href=absolute(instance, feed.page))
    add(root, "rights", f"{instance.licence_title} ({instance.licence_url})")
    add(root, "generator", "Feedback Commons")
    for story in feed.stories:
        url = absolute(instance, f"stories/{story.id}/")
        entry = add(root, "entry")
        add(entry, "id", url)
        add(entry, "title", story.title, type="text")
        add(entry, "link", rel="alternate", type="text/html", href=url)
        add(entry, "published", stamp(story.submitted))
        add(entry, "updated", stamp(story.submitted))
        add(add(entry, "author"), "name", story.author_pseudonym)
        provider = provider_names.get(story.provider, story.provider)
        summary = f"A story about {provider} by {story.author_pseudonym}, {story.author_role}."
        add(entry, "summary", summary, type="text")
        if story.story:
            add(entry, "content", story.story, type="text")
        for tag in sorted(set(story.good) | set(story.better)):
            label = NOT_XML.sub("", tag_names.get(tag, tag))
            add(entry, "category", term=tag, label=label, scheme=absolute(instance, "tags/"))
    ET.indent(root)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")


def etree_sitemaps(addresses: list[str], instance: Instance, limit: int) -> dict[str, bytes]:
    """The sitemap files built with xml.etree, as the website wrote them before."""

    def document(root: ET.Element) -> bytes:
        ET.indent(root)
        return (XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")

    def urlset(part: list[str]) -> bytes:
        root = ET.Element("urlset", {"xmlns": SITEMAP})
        for address in part:
            ET.SubElement(ET.SubElement(root, "url"), "loc").text = absolute(instance, address)
        return document(root)

    ordered = sorted(set(addresses), key=lambda a: (a != "", a))
    if len(ordered) <= limit:
        return {"sitemap.xml": urlset(ordered)}
    files = {}
    index = ET.Element("sitemapindex", {"xmlns": SITEMAP})
    for number, start in enumerate(range(0, len(ordered), limit), start=1):
        name = f"sitemaps/{number}.xml"
        files[name] = urlset(ordered[start : start + limit])
        ET.SubElement(ET.SubElement(index, "sitemap"), "loc").text = absolute(instance, name)
    files["sitemap.xml"] = document(index)
    return files


# Text that exercises escaping: markup, quotes, whitespace XML keeps or turns into references,
# characters XML cannot carry, and the empty string (an empty element).
awkward_text = st.text(alphabet=st.sampled_from("a é<>&\"'\r\n\t\x01\x0b\ufffe"), max_size=12)


@st.composite
def feed_stories(draw: st.DrawFn) -> list[Story]:
    stories = []
    for number in range(draw(st.integers(0, 4))):
        tags = st.lists(st.sampled_from(["food", "a&b", "booking"]), unique=True, max_size=2)
        stories.append(
            Story(
                f"2026-01-0{number + 1}-abcdef",
                draw(st.sampled_from(["p", "q&r"])),
                draw(awkward_text),
                "2025-12",
                dt.date(2026, 1, 9 - number),
                draw(awkward_text),
                draw(awkward_text),
                "published",
                "CC-BY-4.0",
                True,
                "stories/2026/x.yaml",
                story=draw(st.one_of(st.none(), awkward_text)),
                good=tuple(draw(tags)),
                better=tuple(draw(tags)),
            )
        )
    return stories


@settings(max_examples=200, deadline=None)
@given(
    stories=feed_stories(),
    title=awkward_text,
    language=awkward_text,
    names=st.fixed_dictionaries({"p": awkward_text}),
    labels=st.fixed_dictionaries({"food": awkward_text, "a&b": awkward_text}),
)
def test_feeds_are_byte_identical_to_xml_etree(
    stories: list[Story],
    title: str,
    language: str,
    names: dict[str, str],
    labels: dict[str, str],
) -> None:
    instance = dataclasses.replace(
        INSTANCE, language=language, description=title, site_url="https://s.example/a&b"
    )
    feed = Feed("feeds/all.atom.xml", title, "", stories)
    expected = etree_feed(feed, instance, names, labels, dt.date(2026, 2, 1))
    writer = AtomWriter(instance, names, labels, dt.date(2026, 2, 1))
    # Twice from one writer: the second feed reuses the entries the first rendered.
    assert writer.feed(feed) == expected
    assert writer.feed(feed) == expected
    assert atom_feed(feed, instance, names, labels, dt.date(2026, 2, 1)) == expected


@settings(max_examples=100, deadline=None)
@given(
    addresses=st.lists(st.text(alphabet=st.sampled_from('ab/&<"\r'), max_size=6), max_size=7),
    limit=st.integers(1, 4),
)
def test_sitemaps_are_byte_identical_to_xml_etree(addresses: list[str], limit: int) -> None:
    assert sitemaps(addresses, INSTANCE, limit) == etree_sitemaps(addresses, INSTANCE, limit)
