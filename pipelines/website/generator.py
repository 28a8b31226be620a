"""Our Pelican generator: renders provider, story and index pages straight from the data."""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pelican.generators import Generator

from pipelines.website.filters import FILTERS, script_json
from pipelines.website.model import Page, SiteModel, plan_pages

log = logging.getLogger(__name__)

SITE_SETTING = "FEEDBACK_SITE"
PLAN_CONTEXT = "FEEDBACK_PLANNED_PAGES"
# A finished earlier build: pages whose bytes are unchanged are hard-linked from it, not written.
PREVIOUS_SETTING = "FEEDBACK_PREVIOUS_OUTPUT"
# Below this many pages, starting worker processes costs more than it saves.
PARALLEL_MIN_PAGES = 500


def relative_root(save_as: str) -> str:
    """The path from a page back to the site root: "" for index.html, "../../" for a/b/index.html."""
    return "../" * save_as.count("/")


def write_if_changed(path: Path, content: bytes, previous: Path | None = None) -> bool:
    """Put content at path, writing only when no file holds exactly it; True when written.

    When previous (the same page in an earlier build) holds these bytes it is hard-linked, so
    an unchanged page keeps its file. New bytes go to a temporary file renamed into place: a
    file shared by a link with an earlier build is never written through.
    """
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        try:
            if previous.stat().st_size == len(content) and previous.read_bytes() == content:
                if path.exists():
                    path.unlink()
                os.link(previous, path)
                return False
        except OSError:
            pass  # not there, or links not possible here: write the page instead
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)
    return True


@dataclass(frozen=True)
class Written:
    """What rendering a share of the pages did: pages written, and each page's sha256."""

    written: int
    digests: dict[str, str]


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

    def render_share(self, share: int, shares: int, base: dict[str, Any]) -> Written:
        """Render every shares-th page from share on and put each in place if it changed."""
        output = Path(self.output_path)
        previous_setting = self.settings.get(PREVIOUS_SETTING)
        previous = Path(previous_setting) if previous_setting else None
        written = 0
        digests = {}
        for page in self.pages[share::shares]:
            content = self.render(page, base)
            digests[page.save_as] = hashlib.sha256(content).hexdigest()
            written += write_if_changed(
                output / page.save_as, content, previous / page.save_as if previous else None
            )
        return Written(written, digests)

    def generate_output(self, writer: Any) -> None:
        base = self.base_context()
        workers = min(os.cpu_count() or 1, max(1, len(self.pages) // PARALLEL_MIN_PAGES))
        # The commons and the planned pages live until rendering ends: frozen, the cyclic
        # collector stops walking them after every few thousand allocations, and forked
        # workers stop copying their memory to mark them (gc.freeze's documented use).
        gc.freeze()
        try:
            if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
                results = self._render_in_processes(workers, base)
            else:
                results = [self.render_share(0, 1, base)]
        finally:
            gc.unfreeze()
        digests = {k: v for result in results for k, v in result.digests.items()}
        duplicates = len(self.pages) - len(digests)
        if duplicates:
            raise RuntimeError(f"{duplicates} pages were planned at an address already taken")
        written = sum(result.written for result in results)
        log.info("wrote %d of %d data pages (the rest were unchanged)", written, len(self.pages))

    def _render_in_processes(self, workers: int, base: dict[str, Any]) -> list[Written]:
        """Render on every core: forked workers share the model without copying it.

        This process renders the first share itself: an idle parent would hold its own copy
        of the model while each worker dirties theirs (every object a page reads has its
        reference count written, which copies its memory page into the worker).
        """
        context = multiprocessing.get_context("fork")
        pipes = []
        processes = []
        for share in range(1, workers):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_render_worker, args=(self, share, workers, base, send), daemon=True
            )
            process.start()
            send.close()
            pipes.append(receive)
            processes.append(process)
        results: list[Written] = []
        failures: list[str] = []
        try:
            results.append(self.render_share(0, workers, base))
        except Exception:  # noqa: BLE001 - reported with the workers' failures, after they end
            failures.append(traceback.format_exc())
        for receive in pipes:
            try:
                outcome = receive.recv()
            except EOFError:
                outcome = "a page-rendering process stopped without a result"
            if isinstance(outcome, Written):
                results.append(outcome)
            else:
                failures.append(str(outcome))
        for process in processes:
            process.join()
        if failures:
            raise RuntimeError("rendering failed:\n" + "\n".join(failures))
        return results


def _render_worker(
    generator: CommonsGenerator, share: int, shares: int, base: dict[str, Any], send: Any
) -> None:
    try:
        send.send(generator.render_share(share, shares, base))
    except BaseException:  # noqa: BLE001 - any failure is sent to the parent, which fails the build
        send.send(traceback.format_exc())
    finally:
        send.close()
