"""`feedback build`: every stage in order, into a staging folder applied to the output only on success."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines import cachefiles, isolated
from pipelines.isolated import beside
from pipelines.listing import ParallelListing, digest_of, name_of, named_listing, names_digest
from pipelines.load import input_digest, load_dataset
from pipelines.logs import get_logger
from pipelines.package import SourcePackage
from pipelines.problems import Problem, Report
from pipelines.records import Commons
from pipelines.staging import Staging, half_applied, staged_output
from pipelines.versions import add_library_versions
from pipelines.website import WebsiteError, build_website, page_state_path, source_folders

if TYPE_CHECKING:
    from pipelines.export.release import DataRelease

log = get_logger(__name__)


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


def build_all(
    data_dir: Path, output_dir: Path, settings: Path, cache_dir: Path | None = None
) -> BuildResult:
    """Load, validate, aggregate and render the site into output_dir.

    With cache_dir, unchanged files are not parsed again, and a build whose every input is
    unchanged since the last build into output_dir (which must be as that build left it)
    does nothing. Either way unchanged files are kept as the previous output holds them.
    """
    if cache_dir is None:
        return _build(data_dir, output_dir, settings, None, None, lambda: None, lambda: None)
    stamp = BuildStamp.at(cache_dir, output_dir)
    listed: dict[str, str] | None = None
    # The output (every page's stat) is listed by worker processes while the data is
    # listed here. Unless nothing changed, the build keeps the listing when the output
    # is as the last build left it: it is updated then without being walked again.
    with ParallelListing(output_dir) as output_listing:
        # A data file added, removed or renamed, told from the names alone (a quarter of
        # the time of listing the data), means the build runs whatever the output holds.
        renamed = stamp.stored is not None and stamp.names_changed(
            names_digest(data_dir, DATA_SKIPPED)
        )
        if not renamed:
            inputs = InputListing.of(data_dir)
            trusted = stamp.data_digest_if_unchanged(inputs)
            previous = None
            # Without a stamp (a first build) no digest could match: the load makes one.
            if stamp.stored is not None and (
                trusted is not None or not stamp.names_changed(inputs.names)
            ):
                data_digest = trusted or input_digest(data_dir, cache_dir)
                key = stamp_key(data_digest, settings)
                previous = stamp.result_if_unchanged(key, output_listing)
            if previous is None or half_applied(output_dir):
                # Taken before any other process is forked: the pool's threads end here.
                listed = stamp.output_if_unchanged(output_listing)
    if renamed:
        # Nothing waits for the listings then: the data and the output are listed in this
        # process while another loads the data, rather than before that starts. The data's
        # listing counts as taken now, before anything is read (InputListing.of).
        listed_at = time.time_ns()
        unlisted = ParallelListing(output_dir)  # never entered: listed when asked, on one core
        return _build(
            data_dir,
            output_dir,
            settings,
            cache_dir,
            stamp,
            lambda: InputListing.of(data_dir, listed_at),
            lambda: stamp.output_if_unchanged(unlisted),
        )
    if previous is not None and not half_applied(output_dir):
        if trusted is None and inputs.settled:
            # The last build's data was still being written when it listed it, so
            # every file was hashed now: keep this listing, and the next build won't.
            stamp.remember_inputs(inputs)
        log.info("nothing changed since the last build into %s", output_dir.as_posix())
        return previous
    return _build(data_dir, output_dir, settings, cache_dir, stamp, lambda: inputs, lambda: listed)


# How much lower the export's and search's priority is than the build's own in a rebuild
# (os.nice): at 5, beside this process at 0, they share what it leaves of the cores.
BESIDE_NICENESS = 5

# Imported while the data loads (about a second: pandas, Altair, Pelican, pyarrow), and
# before the export and search processes are forked, which then need not import them.
LATER_STAGES = (
    "pipelines.aggregate",
    "pipelines.charts",
    "pipelines.search",
    "pipelines.export",
    "pipelines.website.model",
    "pipelines.website.generator",
    "pelican",
)


def _build(
    data_dir: Path,
    output_dir: Path,
    settings: Path,
    cache_dir: Path | None,
    stamp: BuildStamp | None,
    list_inputs: Callable[[], InputListing | None],
    list_output: Callable[[], dict[str, str] | None],
) -> BuildResult:
    """The build itself; list_inputs gives the data's listing for the stamp, and list_output
    the output's listing when it is as the last build left it (else None), both asked for
    while the data loads."""
    # In a child process: its memory, most of a build's, goes back to the system after it.
    with beside(load_and_validate, data_dir, cache_dir) as loading:
        # Meanwhile, on another core, this process imports what the later stages run (only
        # for a build that runs, and not before the child starts: about a second).
        for module in LATER_STAGES:
            importlib.import_module(module)
        inputs = list_inputs()
        listed = list_output()
        # The commons comes first, as soon as it is built: unpickled here while the child
        # finishes the validation rules.
        early = loading.early()
        checked = loading.result()
    from pipelines.aggregate import aggregate_dataset
    from pipelines.charts import build_charts
    from pipelines.search import SearchError, SearchIndexing

    commons = early if checked.sent_early and not checked.report.errors else checked.commons
    if commons is None:
        raise BuildFailed(f"{len(checked.report.errors)} errors in the data", checked.report)
    package, data_digest = checked.package, checked.data_digest
    try:
        with staged_output(output_dir) as staging:
            if staging.previous is not None:
                # The renderers find the previous pages' stat here, the apply the files.
                staging.listed = listed
            data = staging.within("data")
            # The data package is written, and search (which needs the commons only)
            # indexes, each in a child process, while this one aggregates and charts;
            # a rebuild renders the pages meanwhile too.
            # In a rebuild, which renders few pages, this process is the longest path: the
            # two children yield a core to it. A first build renders every page on every
            # core meanwhile, and search would wait until they end.
            niceness = 0 if staging.previous is None else BESIDE_NICENESS
            log.info("exporting the data package, beside the next stages")
            with beside(
                export_into, commons, data_dir, data, data_digest, cache_dir, niceness=niceness
            ) as exporting:
                log.info("indexing the site for search, beside the next stages")
                search = SearchIndexing(
                    commons, output_dir.parent, staging.previous, cache_dir, niceness
                )
                try:
                    log.info("aggregating")
                    aggregates = aggregate_dataset(commons)
                    log.info("charting")
                    charts = build_charts(commons, aggregates, cache_dir=cache_dir)
                    release: DataRelease | Callable[[], DataRelease]
                    if staging.previous is None:
                        # Every page is rendered: the export's buffers and the renderers'
                        # copies of the model at once would need about 800 MB more at
                        # 100,000 stories, so the export ends first, as it always did.
                        log.info("waiting for the data package before rendering every page")
                        release = exporting.result().release
                    else:
                        release = lambda: exporting.result().release  # noqa: E731
                    log.info("rendering the site")
                    page_state = (
                        None if cache_dir is None else page_state_path(cache_dir, output_dir)
                    )
                    website = build_website(
                        commons,
                        aggregates,
                        staging,
                        settings,
                        charts=charts,
                        package=package,
                        data_release=release,
                        page_state=page_state,
                    )
                    log.info("waiting for the search index")
                    search.finish(staging)
                finally:
                    search.close()
                exported = exporting.result()
            staging.kept.update(exported.kept)
            staging.kept_trees.update(exported.kept_trees)
            log.info("putting the new and changed files in place")
    except (WebsiteError, SearchError) as error:
        raise BuildFailed(str(error)) from error
    result = BuildResult(
        output_dir, len(commons.stories), len(commons.providers), website.pages, checked.report
    )
    if stamp is not None:
        output = None if staging.listed is None else digest_of(staging.listed.values())
        stamp.record(stamp_key(data_digest, settings), result, inputs, data_digest, output)
    return result


@dataclass(frozen=True)
class Exported:
    """What the export, in its own process, did: the release it wrote and the files of the
    previous output it kept (by name from the output's root)."""

    release: DataRelease
    kept: set[str]
    kept_trees: set[str]


def export_into(
    commons: Commons, data_dir: Path, data: Staging, data_digest: str, cache_dir: Path | None
) -> Exported:
    from pipelines.export import export_package

    release = export_package(
        commons,
        data_dir,
        data,
        previous=data.previous,
        data_digest=data_digest,
        cache_dir=cache_dir,
    )
    return Exported(release, data.kept, data.kept_trees)


@dataclass(frozen=True)
class Checked:
    """What a build keeps of loading and validating: the commons (None when the data has
    errors, or when it was sent early: isolated.send_early), the report, the source package
    and the data digest."""

    commons: Commons | None
    report: Report
    package: SourcePackage
    data_digest: str
    sent_early: bool = False


def load_and_validate(data_dir: Path, cache_dir: Path | None) -> Checked:
    from pipelines.validate import file_values, validate_dataset

    log.info("loading %s", data_dir.as_posix())
    dataset = load_dataset(data_dir, cache_dir=cache_dir, derive=file_values)
    log.info("validating %d files", len(dataset.files))
    sent: list[bool] = []
    # Run in a child, the commons is sent to the build's process as soon as it is built,
    # to be unpickled there while the rules run here (at 100,000 stories, about 2 s sooner).
    validation = validate_dataset(
        dataset, on_commons=lambda commons: sent.append(isolated.send_early(commons))
    )
    # Run in a child, which ends without freeing the parsed files one by one.
    isolated.outlive(dataset)
    sent_early = any(sent)
    commons = None if validation.report.errors or sent_early else validation.commons
    return Checked(commons, validation.report, dataset.package, dataset.digest, sent_early)


# --- Skipping a build whose inputs have not changed -------------------------------------

STAMP_FORMAT = 3
# Libraries whose version changes what a page looks like.
RENDERING_LIBRARIES = ("pelican", "jinja2", "markdown", "markupsafe", "pandas", "altair")


def _tree_digest(digest: Any, root: Path) -> None:
    if not root.exists():
        digest.update(f"{root.as_posix()}: none\0".encode())
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def stamp_key(data_digest: str, settings: Path) -> str:
    """A digest of everything a build reads: data, settings, content, theme, code, today."""
    digest = hashlib.sha256()
    # Validation judges dates against today, so a new day is a new build.
    digest.update(f"{STAMP_FORMAT}\0{data_digest}\0{dt.date.today()}\0{sys.version}\0".encode())
    add_library_versions(digest, RENDERING_LIBRARIES)
    digest.update(settings.read_bytes())
    for folder in source_folders(settings):
        _tree_digest(digest, folder)
    _tree_digest(digest, Path(__file__).parent)
    return digest.hexdigest()


# A file changed again within this long of being listed could keep the same mtime and ctime
# (file systems keep time in ticks), so a listing holding such a file is not trusted.
SETTLED_NS = 2_000_000_000
# Not data: git's own folder, in a checkout of the data alone.
DATA_SKIPPED = frozenset({".git"})


@dataclass(frozen=True)
class InputListing:
    """The data folder's files as stat sees them, taken before a build reads them."""

    files: str  # the digest of every file's path and stat
    names: str  # the digest of every file's path
    settled: bool  # every file was last changed well before it was listed

    @classmethod
    def of(cls, data_dir: Path, listed_at: int | None = None) -> InputListing:
        """The listing of data_dir, as taken at listed_at (time.time_ns(); now by default).

        A build may list its data while it reads it, if listed_at is a time before it
        read any file: a file changed after it was read was then changed after listed_at,
        so the listing is not settled and the next build does not trust it.
        """
        listed_at = time.time_ns() if listed_at is None else listed_at
        files, names, newest = named_listing(data_dir, DATA_SKIPPED)
        # ctime, which nothing but the kernel sets, moves on every write and every rename.
        return cls(files, names, newest < listed_at - SETTLED_NS)


@dataclass(frozen=True)
class BuildStamp:
    """What the last successful build into an output folder read and wrote, in cache_dir."""

    path: Path
    output_dir: Path

    @classmethod
    def at(cls, cache_dir: Path, output_dir: Path) -> BuildStamp:
        name = hashlib.sha256(str(output_dir.resolve()).encode()).hexdigest()[:16]
        return cls(cache_dir / f"build-{name}.json", output_dir)

    def data_digest_if_unchanged(self, inputs: InputListing) -> str | None:
        """The data digest the last build recorded, if every data file's stat is as then.

        This spares hashing every data file (as git's index spares git): a file whose size,
        inode, mtime and ctime are all unchanged has not been written since.
        """
        stored = self.stored
        try:
            if stored is None or stored.get("inputs") != inputs.files:
                return None
            return str(stored["data_digest"])
        except (KeyError, TypeError) as error:
            log.debug("not using the build stamp %s: %s", self.path.as_posix(), error)
            return None

    def names_changed(self, names: str) -> bool:
        """Whether a data file was added, removed or renamed since the last build listed them
        (names is the digest of their names now): then the data changed, and need not be
        hashed to tell."""
        stored = self.stored
        return stored is not None and stored.get("names") not in (None, names)

    def result_if_unchanged(self, key: str, output: ParallelListing) -> BuildResult | None:
        """The last build's result when its inputs equal key and its output is untouched."""
        stored = self.stored
        try:
            if stored is None or stored.get("key") != key:
                return None
            if output.digest() != stored["output"]:
                return None
            report = stored["report"]
            return BuildResult(
                self.output_dir,
                int(stored["stories"]),
                int(stored["providers"]),
                int(stored["pages"]),
                Report.of(
                    (Problem(**p) for p in report["problems"]),
                    int(report["files_checked"]),
                    (Problem(**p) for p in report["accepted"]),
                ),
            )
        except (ValueError, KeyError, TypeError) as error:
            log.debug("not using the build stamp %s: %s", self.path.as_posix(), error)
            return None

    def output_if_unchanged(self, output: ParallelListing) -> dict[str, str] | None:
        """The output's files and their listing lines, if it is as the last build left it."""
        stored = self.stored
        if stored is None or stored.get("output") is None:
            return None
        try:
            lines = output.lines()
        except OSError:
            return None
        if digest_of(lines) != stored["output"]:
            return None
        return {name_of(line): line for line in lines}

    def remember_inputs(self, inputs: InputListing) -> None:
        """Keep inputs as the listing of the data the recorded build read (the same bytes)."""
        if self.stored is not None:
            self._write({**self.stored, "inputs": inputs.files})

    @functools.cached_property
    def stored(self) -> dict[str, Any] | None:
        """The stamp as the last build wrote it, read once; None if missing, old or unreadable."""
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.debug("not using the build stamp %s: %s", self.path.as_posix(), error)
            return None
        if not isinstance(stored, dict) or stored.get("format") != STAMP_FORMAT:
            return None
        return stored

    def _write(self, stored: dict[str, Any]) -> None:
        data = json.dumps(stored, sort_keys=True).encode("utf-8")
        cachefiles.keep(self.path, data, "the build stamp")

    def record(
        self,
        key: str,
        result: BuildResult,
        inputs: InputListing | None,
        data_digest: str,
        output: str | None = None,
    ) -> None:
        """Keep what this build read and wrote; output is the digest of the output's listing
        when the build knows it, else the output is listed now."""
        stored = {
            "format": STAMP_FORMAT,
            "key": key,
            # Listed as of a time before the build read the data (InputListing.of): a file
            # changed since differs in stat, or left the listing unsettled.
            "inputs": inputs.files if inputs is not None and inputs.settled else None,
            # Names are what they are whenever they were listed: kept unsettled too.
            "names": inputs.names if inputs is not None else None,
            "data_digest": data_digest,
            "stories": result.stories,
            "providers": result.providers,
            "pages": result.pages,
            "report": {
                "problems": [dataclasses.asdict(p) for p in result.report.problems],
                "files_checked": result.report.files_checked,
                "accepted": [dataclasses.asdict(p) for p in result.report.accepted],
            },
            "output": output or _output_digest(self.output_dir),
        }
        self._write(stored)


def _output_digest(output_dir: Path) -> str | None:
    with ParallelListing(output_dir) as output:
        return output.digest()
