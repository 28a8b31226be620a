"""Our Pelican generator: renders provider, story and index pages straight from the data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from pipelines.website.filters import FILTERS, script_json
from pipelines.website.model import Page, SiteModel, plan_pages

log = logging.getLogger(__name__)

SITE_SETTING = "FEEDBACK_SITE"
PLAN_CONTEXT = "FEEDBACK_PLANNED_PAGES"


def relative_root(save_as: str) -> str:
    """The path from a page back to the site root: "" for index.html, "../../" for a/b/index.html."""
    return "../" * save_as.count("/")


def write_if_changed(path: Path, content: bytes) -> bool:
    """Write content unless the file already holds exactly it; True when written."""
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


class CommonsGenerator(Generator):
    """Plans every data page in generate_context, renders them all in generate_output."""

    pages: list[Page]

    def generate_context(self) -> None:
        model: SiteModel = self.settings[SITE_SETTING]
        self.model = model
        self.env.filters.update(FILTERS)
        self.pages = plan_pages(model)
        # The files generator (feeds, sitemap) lists these pages too.
        self.context[PLAN_CONTEXT] = self.pages
        log.info("planned %d pages from the data", len(self.pages))

    def base_context(self) -> dict[str, Any]:
        model = self.model
        return {
            "instance": model.commons.instance,
            "nav": self.settings.get("FEEDBACK_MAIN_NAV", []),
            "kinds": model.kinds,
            "areas": model.areas,
            "tags": model.tags,
            "dimensions": model.dimensions,
            "providers_by_id": model.providers,
            "provider_summaries": model.aggregates.providers,
            "contributors": model.contributors,
            "stories_by_id": model.stories,
            "confirmations_by_response": model.confirmations_by_response,
            # Each kind of chart's spec, serialised once for every page that draws one.
            "chart_specs": {kind: script_json(spec) for kind, spec in model.charts.specs.items()},
        }

    def render(self, page: Page, base: dict[str, Any]) -> bytes:
        template = self.env.get_template(page.template)
        context = {
            **base,
            "page_url": page.url,
            "root": relative_root(page.save_as),
            **page.context,
        }
        html = template.render(**context)
        return html.encode("utf-8")

    def generate_output(self, writer: Any) -> None:
        base = self.base_context()
        output = Path(self.output_path)
        written = sum(
            write_if_changed(output / page.save_as, self.render(page, base)) for page in self.pages
        )
        log.info("wrote %d of %d data pages (the rest were unchanged)", written, len(self.pages))
