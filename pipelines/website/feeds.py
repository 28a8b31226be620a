"""Atom 1.0 feeds (RFC 4287) of the newest stories: site-wide, per provider and per tag.

Built with xml.etree, so every piece of contributor text is escaped by the serialiser; dates
come from the data, never from the clock.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from pipelines.records import Commons, Instance, Story
from pipelines.website.jsonld import absolute

ATOM = "http://www.w3.org/2005/Atom"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
FEED_ENTRIES = 50  # the newest stories in the site-wide feed
GROUP_FEED_ENTRIES = 20  # in each provider's and tag's feed: there are thousands of them
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Feed:
    save_as: str  # "feeds/providers/brook-surgery.atom.xml"
    title: str
    page: str  # the HTML page the feed follows: "providers/brook-surgery/"
    stories: list[Story]  # newest first, already cut to length


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def fallback_updated(commons: Commons) -> dt.date:
    """The newest date anywhere in the data, for a feed with no entries (never the clock)."""
    dates = [s.submitted for s in commons.stories]
    dates += [r.date for r in commons.responses]
    dates += [m.date for m in commons.moderation]
    if dates:
        return max(dates)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return dt.datetime.fromtimestamp(int(epoch) if epoch else 0, dt.UTC).date()


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = _text(text)
    return element


def atom_feed(
    feed: Feed,
    instance: Instance,
    provider_names: dict[str, str],
    tag_names: dict[str, str],
    empty_updated: dt.date,
) -> bytes:
    """The feed as UTF-8 XML bytes."""
    root = ET.Element("feed", {"xmlns": ATOM, "xml:lang": instance.language})
    feed_url = absolute(instance, feed.save_as)
    _add(root, "id", feed_url)
    _add(root, "title", feed.title)
    _add(root, "subtitle", instance.description)
    newest = feed.stories[0].submitted if feed.stories else empty_updated
    _add(root, "updated", _timestamp(newest))
    author = _add(root, "author")
    _add(author, "name", instance.title)
    _add(author, "uri", instance.site_url)
    _add(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(root, "link", rel="alternate", type="text/html", href=absolute(instance, feed.page))
    _add(root, "rights", f"{instance.licence_title} ({instance.licence_url})")
    _add(root, "generator", "Feedback Commons")
    for story in feed.stories:
        url = absolute(instance, f"stories/{story.id}/")
        entry = _add(root, "entry")
        _add(entry, "id", url)
        _add(entry, "title", story.title, type="text")
        _add(entry, "link", rel="alternate", type="text/html", href=url)
        _add(entry, "published", _timestamp(story.submitted))
        _add(entry, "updated", _timestamp(story.submitted))
        entry_author = _add(entry, "author")
        _add(entry_author, "name", story.author_pseudonym)
        provider = provider_names.get(story.provider, story.provider)
        _add(
            entry,
            "summary",
            f"A story about {provider} by {story.author_pseudonym}, {story.author_role}.",
            type="text",
        )
        if story.story:
            _add(entry, "content", story.story, type="text")
        for tag in sorted(set(story.good) | set(story.better)):
            _add(
                entry,
                "category",
                term=tag,
                label=_text(tag_names.get(tag, tag)),
                scheme=absolute(instance, "tags/"),
            )
    ET.indent(root)
    # Serialising to text and encoding once is several times faster than encoding="utf-8".
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")
