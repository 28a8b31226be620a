"""`feedback build`: every stage in order, into a fresh folder that replaces the output only on success."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipelines.aggregate import aggregate_dataset
from pipelines.charts import build_charts
from pipelines.export import export_package
from pipelines.load import load_dataset
from pipelines.problems import Report
from pipelines.search import SearchError, build_search_index
from pipelines.validate import validate_dataset
from pipelines.website import WebsiteError, build_website

log = logging.getLogger(__name__)


class BuildFailed(Exception):
    """The build stopped; the previous output is untouched."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class BuildResult:
    output: Path
    stories: int
    providers: int
    pages: int
    report: Report

    def summary(self) -> str:
        warnings = len(self.report.warnings)
        extra = f", {warnings} warnings" if warnings else ""
        return (
            f"built {self.pages} pages from {self.stories} stories about {self.providers} providers "
            f"into {self.output.as_posix()}{extra}"
        )


def replace_dir(new: Path, target: Path) -> None:
    """Put new where target is, leaving no moment without a complete folder where possible."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def build_all(data_dir: Path, output_dir: Path, settings: Path) -> BuildResult:
    """Load, validate, aggregate and render the site into output_dir."""
    log.info("loading %s", data_dir.as_posix())
    dataset = load_dataset(data_dir)
    log.info("validating %d files", len(dataset.files))
    validation = validate_dataset(dataset)
    if validation.report.errors or validation.commons is None:
        raise BuildFailed(f"{len(validation.report.errors)} errors in the data", validation.report)
    commons = validation.commons
    log.info("aggregating")
    aggregates = aggregate_dataset(commons)
    log.info("charting")
    charts = build_charts(commons, aggregates)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    try:
        log.info("exporting the data package")
        data_release = export_package(commons, data_dir, staging / "data")
        log.info("rendering the site")
        website = build_website(
            commons,
            aggregates,
            staging,
            settings,
            charts=charts,
            package=dataset.package,
            data_release=data_release,
        )
        log.info("indexing the site for search")
        build_search_index(staging)
        replace_dir(staging, output_dir)
    except (WebsiteError, SearchError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise BuildFailed(str(error)) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(
        output_dir, len(commons.stories), len(commons.providers), website.pages, validation.report
    )
