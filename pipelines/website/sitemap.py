"""sitemap.xml: every indexable page, as absolute URLs under the instance's site_url.

The sitemaps protocol allows 50,000 addresses a file; past that, sitemap.xml becomes a sitemap
index over sitemaps/1.xml, sitemaps/2.xml and so on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipelines.records import Instance
from pipelines.website.feeds import XML_DECLARATION
from pipelines.website.jsonld import absolute

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
LIMIT = 50_000


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    return (XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n").encode("utf-8")


def _urlset(addresses: list[str], instance: Instance) -> bytes:
    root = ET.Element("urlset", {"xmlns": NAMESPACE})
    for address in addresses:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = absolute(instance, address)
    return _document(root)


def sitemaps(addresses: list[str], instance: Instance, limit: int = LIMIT) -> dict[str, bytes]:
    """Files to write, by path: sitemap.xml, and the parts it indexes when there are many pages."""
    ordered = sorted(set(addresses), key=lambda a: (a != "", a))
    if len(ordered) <= limit:
        return {"sitemap.xml": _urlset(ordered, instance)}
    files = {}
    index = ET.Element("sitemapindex", {"xmlns": NAMESPACE})
    for number, start in enumerate(range(0, len(ordered), limit), start=1):
        name = f"sitemaps/{number}.xml"
        files[name] = _urlset(ordered[start : start + limit], instance)
        ET.SubElement(ET.SubElement(index, "sitemap"), "loc").text = absolute(instance, name)
    files["sitemap.xml"] = _document(index)
    return files
