"""sitemap.xml: every indexable page, as absolute URLs under the instance's site_url.

The sitemaps protocol allows 50,000 addresses a file; past that, sitemap.xml becomes a sitemap
index over sitemaps/1.xml, sitemaps/2.xml and so on.
"""

from __future__ import annotations

from pipelines.records import Instance
from pipelines.website.feeds import XML_DECLARATION, leaf
from pipelines.website.jsonld import absolute

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
LIMIT = 50_000


def _document(root: str, lines: list[str]) -> bytes:
    """The document as xml.etree would serialise and indent it (a test holds them identical)."""
    if not lines:
        return f'{XML_DECLARATION}<{root} xmlns="{NAMESPACE}" />\n'.encode()
    return "".join(
        [XML_DECLARATION, f'<{root} xmlns="{NAMESPACE}">\n', *lines, f"</{root}>\n"]
    ).encode("utf-8")


def _entry(element_name: str, address: str, instance: Instance) -> str:
    loc = leaf("    <loc", "loc", absolute(instance, address))
    return f"  <{element_name}>\n{loc}  </{element_name}>\n"


def _urlset(addresses: list[str], instance: Instance) -> bytes:
    return _document("urlset", [_entry("url", address, instance) for address in addresses])


def sitemaps(addresses: list[str], instance: Instance, limit: int = LIMIT) -> dict[str, bytes]:
    """Files to write, by path: sitemap.xml, and the parts it indexes when there are many pages."""
    ordered = sorted(set(addresses))  # the home page, "", first
    if len(ordered) <= limit:
        return {"sitemap.xml": _urlset(ordered, instance)}
    files = {}
    index = []
    for number, start in enumerate(range(0, len(ordered), limit), start=1):
        name = f"sitemaps/{number}.xml"
        files[name] = _urlset(ordered[start : start + limit], instance)
        index.append(_entry("sitemap", name, instance))
    files["sitemap.xml"] = _document("sitemapindex", index)
    return files
