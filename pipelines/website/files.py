"""The site's files that are not pages: Atom feeds, sitemap.xml and the self-hosted Vega runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pelican.generators import Generator

from pipelines.logs import get_logger
from pipelines.staging import Staging
from pipelines.website.feeds import (
    FEED_ENTRIES,
    GROUP_FEED_ENTRIES,
    AtomWriter,
    Feed,
    fallback_updated,
)
from pipelines.website.generator import (
    FEEDS_CONTEXT,
    PLAN_CONTEXT,
    SITE_SETTING,
    STAGING_SETTING,
    write_if_changed,
)
from pipelines.website.model import Page, SiteModel
from pipelines.website.sitemap import sitemaps

log = get_logger(__name__)

# The charts stage's runtime script (pipelines.charts.vega_runtime): never committed, never
# fetched from a CDN.
VEGA_RUNTIME = "theme/js/vega.js"
# Pages search engines should not list: the 404, tombstones and the search page.
NOT_INDEXED = frozenset({"404.html", "tombstone.html", "search.html"})


def feeds(model: SiteModel) -> list[Feed]:
    """The site-wide feed, one per provider and one per tag."""
    title = model.commons.instance.title
    found = [Feed("feeds/all.atom.xml", f"{title}: new stories", "", model.latest[:FEED_ENTRIES])]
    found.extend(
        Feed(
            f"feeds/providers/{provider.id}.atom.xml",
            f"{title}: stories about {provider.name}",
            f"providers/{provider.id}/",
            model.stories_by_provider.get(provider.id, [])[:GROUP_FEED_ENTRIES],
        )
        for provider in sorted(model.providers.values(), key=lambda p: p.id)
    )
    found.extend(
        Feed(
            f"feeds/tags/{tag.id}.atom.xml",
            f"{title}: stories tagged {tag.name}",
            f"tags/{tag.id}/",
            model.stories_by_tag.get(tag.id, [])[:GROUP_FEED_ENTRIES],
        )
        for tag in sorted(model.tags.values(), key=lambda t: t.id)
    )
    return found


def feed_files(model: SiteModel) -> dict[str, bytes]:
    """Every feed and static chart, by the path to write it at: the files that do not
    depend on which pages there are."""
    instance = model.commons.instance
    provider_names = {p.id: p.name for p in model.providers.values()}
    tag_names = {t.id: t.name for t in model.tags.values()}
    writer = AtomWriter(instance, provider_names, tag_names, fallback_updated(model.commons))
    files = {feed.save_as: writer.feed(feed) for feed in feeds(model)}
    for chart in model.charts.site:
        if chart.svg is not None and chart.svg_path is not None:
            files[chart.svg_path] = chart.svg.encode("utf-8")
    return files


def site_files(
    model: SiteModel, addresses: list[str], made: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """Every feed and sitemap file and static chart, by the path to write it at; made is
    feed_files(model) when already made."""
    files = feed_files(model) if made is None else dict(made)
    files.update(sitemaps(addresses, model.commons.instance))
    return files


class FilesGenerator(Generator):
    """Writes the feeds, the sitemap and the Vega runtime after every page is planned."""

    def generate_context(self) -> None:
        pass  # everything it needs is planned by CommonsGenerator and Pelican's page generator

    def generate_output(self, writer: Any) -> None:
        model: SiteModel = self.settings[SITE_SETTING]
        planned: list[Page] = self.context.get(PLAN_CONTEXT, [])
        addresses = [p.url for p in planned if p.template not in NOT_INDEXED]
        addresses += [page.url for page in self.context.get("pages", [])]
        output = Path(self.output_path)
        files = site_files(model, addresses, self.context.pop(FEEDS_CONTEXT, None))
        files[VEGA_RUNTIME] = model.charts.runtime.encode("utf-8")
        # As for pages: an unchanged file is kept in the previous output, not written.
        staging: Staging | None = self.settings.get(STAGING_SETTING)
        previous = staging.previous if staging is not None else None
        written = 0
        for path, content in files.items():
            if write_if_changed(output / path, content, previous / path if previous else None):
                written += 1
            elif staging is not None:
                staging.keep(path)
        log.info("wrote %d of %d feeds, sitemaps and scripts", written, len(files))
