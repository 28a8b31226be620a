"""Build the website: Pelican with pelican.conf.py, our theme and our generator."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.logs import get_logger
from pipelines.staging import Staging

if TYPE_CHECKING:  # pandas, Altair and Pelican load when a site is built, not on import:
    # a build with nothing changed imports this module only for source_folders.
    from pipelines.aggregate import Aggregates
    from pipelines.charts import Charts
    from pipelines.export.release import DataRelease
    from pipelines.package import SourcePackage
    from pipelines.records import Commons

log = get_logger(__name__)


class WebsiteError(Exception):
    """Pelican could not build the site as configured (an operator error, not a data problem)."""


@dataclass(frozen=True)
class WebsiteResult:
    pages: int


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _hand_written_pages(content: Path) -> list[Path]:
    return sorted((content / "pages").glob("*.md")) if (content / "pages").is_dir() else []


def _count_pages(folder: Path) -> int:
    """The HTML files under folder. os.walk, not Path.rglob: at 100,000 stories, 122,000
    folders with a page each, rglob took about 6 s and os.walk 2.5."""
    return sum(1 for _, _, files in os.walk(folder) for name in files if name.endswith(".html"))


def page_state_path(cache_dir: Path, output_dir: Path) -> Path:
    """The file in cache_dir holding the input key of every page built into output_dir."""
    name = hashlib.sha256(str(output_dir.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"pages-{name}.marshal"


def source_folders(settings_path: Path) -> tuple[Path, Path]:
    """The folders a build reads besides data/: hand-written content and the theme."""
    from pelican.settings import read_settings

    settings = read_settings(str(settings_path.resolve()))
    return Path(settings["PATH"]), Path(settings["THEME"])


def build_website(
    commons: Commons,
    aggregates: Aggregates,
    output: Path | Staging,
    settings_path: Path,
    *,
    charts: Charts,
    package: SourcePackage,
    data_release: DataRelease | Callable[[], DataRelease] | None = None,
    page_state: Path | None = None,
) -> WebsiteResult:
    """Render every page into output, a folder or a build's Staging; any Pelican warning
    fails the build.

    Into a Staging over a previous output, a data page, feed or sitemap whose bytes are
    the previous output's is kept there rather than written. With page_state
    (page_state_path), each data page's input key is kept there, and a page whose inputs
    are those of the previous output's copy is kept without being rendered.

    data_release may be a function that waits for the package being exported meanwhile:
    every other page is rendered before the data page, which describes it, asks for it.
    """
    from pelican import Pelican
    from pelican.settings import read_settings

    from pipelines.load import paused_gc
    from pipelines.website.generator import (
        PENDING_RELEASE_SETTING,
        SITE_SETTING,
        STAGING_SETTING,
        STATE_SETTING,
    )
    from pipelines.website.model import build_model

    settings_path = settings_path.resolve()
    staging = output if isinstance(output, Staging) else None
    output_dir = output.dir if isinstance(output, Staging) else output
    pending = data_release if callable(data_release) else None
    with paused_gc():  # the model's indexes and cards hold no cycles: see paused_gc
        model = dataclasses.replace(
            build_model(commons, aggregates, charts, package),
            data_release=None if callable(data_release) else data_release,
        )
    settings = read_settings(
        str(settings_path),
        override={
            "OUTPUT_PATH": str(output_dir.resolve()),
            "SITENAME": commons.instance.title,
            "SITEURL": "",
            "SLUGIFY_SOURCE": "basename",
            SITE_SETTING: model,
            "FEEDBACK_INSTANCE": commons.instance,
            STAGING_SETTING: staging,
            STATE_SETTING: str(page_state.resolve()) if page_state else None,
            PENDING_RELEASE_SETTING: pending,
        },
    )
    content = Path(settings["PATH"])
    pages = _hand_written_pages(content)
    if pages and importlib.util.find_spec("markdown") is None:
        raise WebsiteError(
            f"{len(pages)} Markdown pages in {content}/pages would be silently skipped: "
            "Pelican reads Markdown only when the markdown package is installed (run make site)"
        )
    collect = _Collect()
    pelican_log = logging.getLogger("pelican")
    pelican_log.addHandler(collect)
    try:
        # Pelican prints its own summary on stdout, which is for our results only.
        with contextlib.redirect_stdout(io.StringIO()):
            Pelican(settings).run()
    finally:
        pelican_log.removeHandler(collect)
    if collect.messages:
        raise WebsiteError("Pelican warned: " + "; ".join(collect.messages))
    missing = [p for p in pages if not (output_dir / p.stem / "index.html").is_file()]
    if missing:
        raise WebsiteError(
            "these pages were not published: "
            + ", ".join(p.as_posix() for p in missing)
            + " (check their metadata and that the markdown package is installed)"
        )
    written = _count_pages(output_dir)
    kept = sum(1 for name in staging.kept if name.endswith(".html")) if staging else 0
    return WebsiteResult(pages=written + kept)
