"""Full-text search over the built site: Pagefind indexes story and provider pages into pagefind/."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLE_DIR = "pagefind"
# The pages people search for. Provider pages beyond the first only repeat story titles
# that are indexed on their own pages, so only each provider's first page is indexed.
SEARCHED = ("providers", "stories")
# Index what a page is about: not the header, footer and breadcrumbs every page shares, nor
# the fixed labels of definition lists (Pagefind would run "Kind" into the kind's name:
# "KindGP"), nor charts, whose numbers and axis labels match nothing anyone searches for.
ROOT_SELECTOR = "main"
EXCLUDE_SELECTORS = ("nav", "dt", "[data-chart]")


class SearchError(Exception):
    """Pagefind is missing or failed (an operator error, not a data problem)."""


@dataclass(frozen=True)
class SearchResult:
    pages: int


class _RobotsMeta(HTMLParser):
    """Collects the content of <meta name="robots"> tags in a page's head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.directives: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = {name: value or "" for name, value in attrs}
        if values.get("name", "").lower() == "robots":
            self.directives.extend(d.strip().lower() for d in values.get("content", "").split(","))


def asks_not_to_be_indexed(html: str) -> bool:
    """True when the page's head carries <meta name="robots" content="noindex">, as tombstones do."""
    head, _, _ = html.partition("</head>")
    parser = _RobotsMeta()
    parser.feed(head)
    parser.close()
    return "noindex" in parser.directives or "none" in parser.directives


def searchable_pages(site: Path) -> list[str]:
    """Paths, relative to site, of the pages to index: stories and providers, not tombstones."""
    return [
        path.relative_to(site).as_posix()
        for section in SEARCHED
        for path in sorted((site / section).glob("*/index.html"))
        if not asks_not_to_be_indexed(path.read_text(encoding="utf-8"))
    ]


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without hard links
        shutil.copyfile(source, target)


def _pagefind() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError as error:
        raise SearchError(
            "the pagefind package is not installed (run make site to install it)"
        ) from error
    executable = get_executable()
    if executable is None or not executable.is_file():
        raise SearchError(
            "the Pagefind program was not found (run make site to install pagefind[bin])"
        )
    return executable


def build_search_index(output_dir: Path) -> SearchResult:
    """Index the built site's story and provider pages into output_dir/pagefind/, offline.

    Pagefind reads a mirror of only the pages to index (hard links, so nearly free), which
    keeps tombstones, the 404 page and every other page out without changing any template.
    """
    executable = _pagefind()
    site = output_dir.resolve()
    pages = searchable_pages(site)
    bundle = site / BUNDLE_DIR
    if bundle.exists():
        shutil.rmtree(bundle)
    if not pages:
        # Pagefind refuses an empty site; the search page says there is nothing to search yet.
        log.info("no story or provider pages to index: no search index written")
        return SearchResult(pages=0)
    mirror = Path(tempfile.mkdtemp(prefix=".search-", dir=site.parent))
    try:
        for page in pages:
            _link_or_copy(site / page, mirror / page)
        command = [
            str(executable),
            "--site",
            str(mirror),
            "--output-path",
            str(bundle),
            "--root-selector",
            ROOT_SELECTOR,
            *(arg for selector in EXCLUDE_SELECTORS for arg in ("--exclude-selectors", selector)),
            "--quiet",
        ]
        # Configuration is this command line only: no pagefind.yml, no PAGEFIND_* variables.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}
        done = subprocess.run(
            command, cwd=mirror, env=env, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise SearchError(f"could not run Pagefind ({executable}): {error.strerror}") from error
    finally:
        shutil.rmtree(mirror, ignore_errors=True)
    log.debug("pagefind said: %s", (done.stdout + done.stderr).strip())
    if done.returncode != 0 or not (bundle / "pagefind.js").is_file():
        shutil.rmtree(bundle, ignore_errors=True)  # never leave half an index behind
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise SearchError(
            "Pagefind could not index the site"
            + (f": {detail[-1]}" if detail else f" (exit code {done.returncode})")
        )
    log.info("indexed %d pages for search into %s/", len(pages), BUNDLE_DIR)
    return SearchResult(pages=len(pages))
