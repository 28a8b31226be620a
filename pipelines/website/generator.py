"""Our Pelican generator: renders provider, story and index pages straight from the data.

Every planned page has an input key: a digest of the site-wide inputs every page shares
(instance, vocabularies, chart specs, templates, settings, code and library versions) and of
the page's own context, which carries everything its template reads besides them. A rebuild
with a page state (website.page_state_path) keeps each page whose key is the one recorded
for the file still in the previous output, and renders only the others.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
import json
import marshal
import multiprocessing
import numbers
import operator
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from markupsafe import Markup
from pelican.generators import Generator

from pipelines import cachefiles
from pipelines.cores import usable_cores
from pipelines.listing import stat_of, still_holds
from pipelines.load import paused_gc
from pipelines.logs import get_logger
from pipelines.staging import Staging
from pipelines.versions import add_library_versions
from pipelines.website.filters import FILTERS, script_json
from pipelines.website.fragments import GLOBALS
from pipelines.website.model import Page, SiteModel, plan_pages

log = get_logger(__name__)

SITE_SETTING = "FEEDBACK_SITE"
PLAN_CONTEXT = "FEEDBACK_PLANNED_PAGES"
# The feeds and static charts (files.feed_files), when made before the files generator runs.
FEEDS_CONTEXT = "FEEDBACK_FEED_FILES"
# The build's Staging: a page whose bytes are unchanged is kept in its previous output, not written.
STAGING_SETTING = "FEEDBACK_STAGING"
# Where the input key of each page of the previous output is kept (page_state_path).
STATE_SETTING = "FEEDBACK_PAGE_STATE"
# A function that waits for the data package being exported beside the site: the data page,
# which describes it, is planned and rendered last, once every other page is.
PENDING_RELEASE_SETTING = "FEEDBACK_PENDING_RELEASE"
# Below this many pages, starting worker processes costs more than it saves.
PARALLEL_MIN_PAGES = 500
# Changes when what a key covers changes, so that older page states are not trusted.
KEY_FORMAT = 3
# Libraries that turn a page's context into its bytes.
TEMPLATE_LIBRARIES = ("jinja2", "markupsafe", "pelican")
_MODULE_DIGESTS: dict[str, str] = {}


def module_digest(name: str) -> str:
    """A digest of a module's source: keys cover the code templates call (filters, and the
    properties of the values in a context), not only the values."""
    known = _MODULE_DIGESTS.get(name)
    if known is None:
        path = getattr(sys.modules.get(name), "__file__", None)
        source = Path(path).read_bytes() if path else name.encode()
        known = _MODULE_DIGESTS[name] = hashlib.sha256(source).hexdigest()[:16]
    return known


# Values whose repr is their whole content, unambiguously (strings quoted and escaped).
_BY_REPR = frozenset({str, int, float, bool, type(None), dt.date, dt.datetime})


class Unkeyable(TypeError):
    """A context value whose content a key cannot cover: the page is always rendered."""


class _Shape(NamedTuple):
    """How InputKeys spells a dataclass's instances."""

    names: tuple[str, ...]
    prefix: str  # the type, and its module's source for the properties templates read
    values: Callable[[Any], tuple[Any, ...]]  # every field's value, in order
    plain: bool  # a record: its fields hold only values whose repr spells them out

    @classmethod
    def of(cls, kind: type) -> _Shape:
        names = tuple(f.name for f in dataclasses.fields(kind))
        module = kind.__module__
        prefix = f"{module}.{kind.__qualname__}@{module_digest(module)}"
        plain = module == "pipelines.records"
        if len(names) == 1:
            (name,) = names
            return cls(names, prefix, lambda value: (getattr(value, name),), plain)
        return cls(names, prefix, operator.attrgetter(*names), plain)


class InputKeys:
    """Digests of page contexts, each record digested once however many pages show it.

    A value's token spells out its content: strings quoted, numbers and dates by repr,
    sequences and mappings in order, a dataclass (records, cards, summaries, charts) as the
    digest of its type and fields, memoised by identity while the value is kept alive here.
    A dataclass's token covers its module's source too, for the properties templates read.
    """

    def __init__(self, shared: str) -> None:
        self.shared = shared
        self._memo: dict[int, tuple[object, str]] = {}
        # Per dataclass type: its fields' names, what its tokens start with and, when its
        # fields are plain values (a record's), a getter of them all as one tuple, whose repr
        # spells them all out.
        self._types: dict[type, _Shape] = {}

    def token(self, value: Any) -> str:
        kind = type(value)
        if kind in _BY_REPR:
            return repr(value)
        if kind is list or kind is tuple:
            # A sequence of plain values is spelled by its repr ("[1, 'a']"); any other item
            # by item ("[1,#...]"), with a token of another kind outside quotes.
            if all(type(v) in _BY_REPR for v in value):
                return repr(value)
            return "[" + self._items(value) + "]"
        known = self._memo.get(id(value))
        if known is not None:
            return known[1]
        if kind is Markup:
            return "M" + repr(str(value))
        if kind is dict:
            token = self.token
            pairs = [
                f"{repr(k) if type(k) in _BY_REPR else token(k)}:"
                f"{repr(v) if type(v) in _BY_REPR else token(v)}"
                for k, v in value.items()
            ]
            return "{" + ",".join(pairs) + "}"
        shape = self._types.get(kind)
        if shape is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
            shape = self._types[kind] = _Shape.of(kind)
        if shape is not None:
            values = shape.values(value)
            if shape.plain or all(type(v) in _BY_REPR for v in values):
                spelled = repr(values)
            else:
                spelled = self._items(values)
            text = f"{shape.prefix}({spelled})"
            digest = (
                "#"
                + hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
            )
            self._memo[id(value)] = (value, digest)
            return digest
        if isinstance(value, numbers.Number):  # numpy's numbers too
            return f"{kind.__qualname__}:{value!r}"
        raise Unkeyable(f"{kind.__module__}.{kind.__qualname__}")

    def _items(self, values: Any) -> str:
        """Values' tokens, comma-separated: plain ones spelled here, saving a call each."""
        token = self.token
        return ",".join([repr(v) if type(v) in _BY_REPR else token(v) for v in values])

    def key(self, page: Page) -> str | None:
        """The page's input key, or None when its context holds a value no key covers."""
        try:
            context = self.token(page.context)
        except Unkeyable as error:
            log.debug("rendering %s every time: its context holds a %s", page.save_as, error)
            return None
        text = f"{self.shared}\0{page.save_as}\0{page.template}\0{context}"
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# A page's entry in the page state: its input key, the stat of the file it was put in and
# a digest of its bytes. The stat tells at once that the file is untouched; the digest tells
# it of a file whose stat alone changed: an output restored from a CI cache or copied.
Entry = tuple[str, int, int, int, str]  # key, size, inode, mtime_ns, digest of the bytes


def content_digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _stat_entry(key: str, path: Path, digest: str) -> Entry:
    info = path.stat()
    return (key, info.st_size, info.st_ino, info.st_mtime_ns, digest)


def read_page_state(path: Path | None) -> dict[str, Entry]:
    """The entries recorded by the last build, or none when there is no readable state."""
    if path is None:
        return {}
    try:
        stored = marshal.loads(path.read_bytes())
        if not isinstance(stored, tuple) or stored[0] != KEY_FORMAT:
            return {}
        return {name: (e[0], e[1], e[2], e[3], e[4]) for name, e in stored[1].items()}
    except (OSError, ValueError, EOFError, KeyError, TypeError, IndexError) as error:
        log.debug("not using the page state %s: %s", path.as_posix(), error)
        return {}


def write_page_state(path: Path, entries: dict[str, Entry]) -> None:
    # marshal: the state of 123,000 pages is read and written in a tenth of JSON's time.
    data = marshal.dumps((KEY_FORMAT, dict(sorted(entries.items()))))
    cachefiles.keep(path, data, "the page state")


def relative_root(save_as: str) -> str:
    """The path from a page back to the site root: "" for index.html, "../../" for a/b/index.html."""
    return "../" * save_as.count("/")


def write_if_changed(path: Path, content: bytes, previous: Path | None = None) -> bool:
    """Write content at path unless previous holds exactly it; True when written.

    previous is the same file in the output the build updates in place: when it holds
    these bytes nothing is written, and the caller keeps it (Staging.keep).
    """
    if previous is not None:
        try:
            if previous.stat().st_size == len(content) and previous.read_bytes() == content:
                return False
        except OSError:
            pass  # not there: write it
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


class Keyed(NamedTuple):
    """A page to render, with its input key (None when it has none)."""

    page: Page
    key: str | None


@dataclass(frozen=True)
class Written:
    """What putting some pages in place did: pages rendered and written, their entries, and
    the pages of the previous output kept."""

    rendered: int
    written: int
    entries: dict[str, Entry]  # pages with an input key, for the next build's page state
    pages: int
    kept: list[str]  # pages of the previous output left as they are


class CommonsGenerator(Generator):
    """Plans every data page in generate_context, renders them all in generate_output."""

    pages: list[Page]

    def generate_context(self) -> None:
        model: SiteModel = self.settings[SITE_SETTING]
        self.model = model
        self.env.filters.update(FILTERS)
        self.env.globals.update(GLOBALS)
        # Templates do not change during a build: without this, every page's render checks
        # the modification time of its template and of each one it imports.
        self.env.auto_reload = False
        with paused_gc():  # 123,000 pages' contexts at 100,000 stories, without cycles
            self.pages = plan_pages(model)
        # The files generator (feeds, sitemap) lists these pages too.
        self.context[PLAN_CONTEXT] = self.pages
        log.info("planned %d pages from the data", len(self.pages))

    def base_context(self) -> dict[str, Any]:
        """What every page reads besides its own context: site-wide, in every page's key."""
        model = self.model
        return {
            "instance": model.commons.instance,
            "nav": self.settings.get("FEEDBACK_MAIN_NAV", []),
            "kinds": model.kinds,
            "areas": model.areas,
            "tags": model.tags,
            "dimensions": model.dimensions,
            # Each kind of chart's spec, serialised once for every page that draws one.
            "chart_specs": {kind: script_json(spec) for kind, spec in model.charts.specs.items()},
        }

    def shared_key(self, base: dict[str, Any]) -> str:
        """A digest of every input all pages share: the base context, templates, code, versions."""
        digest = hashlib.sha256(f"{KEY_FORMAT}\0{sys.version}\0".encode())
        add_library_versions(digest, TEMPLATE_LIBRARIES)
        digest.update(InputKeys("").token(base).encode("utf-8", "surrogatepass"))
        options = self.settings.get("JINJA_ENVIRONMENT", {})
        digest.update(json.dumps(options, sort_keys=True, default=repr).encode())
        for functions in (self.env.filters, self.env.tests, self.env.globals):
            for name, function in sorted(functions.items()):
                module = getattr(function, "__module__", None) or ""
                source = module_digest(module) if module.startswith("pipelines") else ""
                digest.update(f"{name}\0{module}\0{source}\1".encode())
        loader = self.env.loader
        if loader is not None:
            for name in sorted(self.env.list_templates()):
                source = loader.get_source(self.env, name)[0]
                digest.update(f"{name}\0{source}\0".encode("utf-8", "surrogatepass"))
        # This module renders; the planner's changes reach each page's context.
        digest.update(module_digest(__name__).encode())
        return digest.hexdigest()

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

    def _previous(self) -> Path | None:
        staging: Staging | None = self.settings.get(STAGING_SETTING)
        return staging.previous if staging is not None else None

    def sort_out(
        self, pages: list[Page], shared: str | None, state: dict[str, Entry]
    ) -> tuple[list[Keyed], Written]:
        """The pages to render, each with its input key, and what keeping the others did.

        With shared (the shared key) each page gets an input key; a page whose key is the
        one state records for the previous output's file, which still holds the bytes it
        recorded, is kept without being rendered.
        """
        previous = self._previous()
        staging: Staging | None = self.settings.get(STAGING_SETTING)
        listed = staging.listed if staging is not None else None
        keys = InputKeys(shared) if shared is not None else None
        changed: list[Keyed] = []
        entries: dict[str, Entry] = {}
        kept: list[str] = []
        for page in pages:
            key = keys.key(page) if keys is not None else None
            if key is not None and previous is not None:
                entry = state.get(page.save_as)
                if entry is not None and entry[0] == key:
                    if listed is not None and _listed_as(listed.get(page.save_as), entry):
                        entries[page.save_as] = entry
                        kept.append(page.save_as)
                        continue
                    unchanged = _unchanged(previous / page.save_as, entry)
                    if unchanged is not None:
                        entries[page.save_as] = unchanged
                        kept.append(page.save_as)
                        continue
            changed.append(Keyed(page, key))
        return changed, Written(0, 0, entries, len(pages) - len(changed), kept)

    def render_keyed(self, pages: list[Keyed], base: dict[str, Any]) -> Written:
        """Render pages and put them in place; one rendered to the bytes the previous output
        holds is kept there instead."""
        output = Path(self.output_path)
        previous = self._previous()
        rendered = written = 0
        entries: dict[str, Entry] = {}
        kept: list[str] = []
        for page, key in pages:
            content = self.render(page, base)
            rendered += 1
            old = previous / page.save_as if previous is not None else None
            target = output / page.save_as
            if write_if_changed(target, content, old):
                written += 1
            elif old is not None:
                kept.append(page.save_as)
                target = old
            if key is not None:
                entries[page.save_as] = _stat_entry(key, target, content_digest(content))
        return Written(rendered, written, entries, len(pages), kept)

    def render_pages(
        self, pages: list[Page], base: dict[str, Any], shared: str | None, state: dict[str, Entry]
    ) -> list[Written]:
        """Put pages in place, rendering only those whose inputs changed (sort_out), on
        every core when there are many."""
        changed, unchanged = self.sort_out(pages, shared, state)
        workers = min(usable_cores(), max(1, len(changed) // PARALLEL_MIN_PAGES))
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            return [unchanged, *self._render_in_processes(workers, changed, base)]
        return [unchanged, self.render_keyed(changed, base)]

    def generate_output(self, writer: Any) -> None:
        started, times = time.perf_counter(), os.times()
        addresses = {page.save_as for page in self.pages}
        if len(addresses) != len(self.pages):
            duplicates = len(self.pages) - len(addresses)
            raise RuntimeError(f"{duplicates} pages were planned at an address already taken")
        base = self.base_context()
        state_setting = self.settings.get(STATE_SETTING)
        state_path = Path(state_setting) if state_setting else None
        shared = self.shared_key(base) if state_path is not None else None
        state = read_page_state(state_path)
        # The commons and the planned pages live until rendering ends: frozen, the cyclic
        # collector stops walking them after every few thousand allocations, and forked
        # workers stop copying their memory to mark them (gc.freeze's documented use).
        gc.freeze()
        try:
            results = self.render_pages(self.pages, base, shared, state)
        finally:
            gc.unfreeze()
        pending = self.settings.get(PENDING_RELEASE_SETTING)
        if pending is not None:
            # Imported here: data_page imports the model, and files this module.
            from pipelines.website.data_page import data_pages
            from pipelines.website.files import feed_files

            # Made before waiting for the data package, which they do not depend on (the
            # sitemap, which lists the data page, is made after it), while it is exported.
            self.context[FEEDS_CONTEXT] = feed_files(self.model)
            late = data_pages(dataclasses.replace(self.model, data_release=pending()))
            self.pages.extend(late)  # the files generator's sitemap lists them too
            results.extend(self.render_pages(late, base, shared, state))
        if state_path is not None:
            write_page_state(state_path, {k: v for r in results for k, v in r.entries.items()})
        staging: Staging | None = self.settings.get(STAGING_SETTING)
        if staging is not None:
            for result in results:
                for name in result.kept:
                    staging.keep(name)
        rendered = sum(result.rendered for result in results)
        written = sum(result.written for result in results)
        ended = os.times()
        log.info(
            "rendered %d, wrote %d of %d pages (the rest were unchanged) in %.1f s, %.1f s CPU",
            rendered,
            written,
            sum(result.pages for result in results),
            time.perf_counter() - started,
            sum(ended[:4]) - sum(times[:4]),
        )

    def _render_in_processes(
        self, workers: int, pages: list[Keyed], base: dict[str, Any]
    ) -> list[Written]:
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
                target=_render_worker,
                args=(self, pages[share::workers], base, send),
                daemon=True,
            )
            process.start()
            send.close()
            pipes.append(receive)
            processes.append(process)
        results: list[Written] = []
        failures: list[str] = []
        try:
            results.append(self.render_keyed(pages[0::workers], base))
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


def _listed_as(line: str | None, entry: Entry) -> bool:
    """Whether the output's listing line (pipelines.listing, taken by this build before it
    started) shows the file with the size, inode and mtime entry recorded: then it holds
    the bytes recorded, and need not be stat'ed again."""
    return line is not None and stat_of(line) == entry[1:4]


def _unchanged(previous: Path, entry: Entry) -> Entry | None:
    """The entry of previous when it still holds the bytes entry recorded (still_holds),
    else None."""
    info = still_holds(
        previous, entry[1:4], entry[4], lambda path: content_digest(path.read_bytes())
    )
    if info is None:
        return None
    return (entry[0], info.st_size, info.st_ino, info.st_mtime_ns, entry[4])


def _render_worker(
    generator: CommonsGenerator, pages: list[Keyed], base: dict[str, Any], send: Any
) -> None:
    try:
        send.send(generator.render_keyed(pages, base))
    except BaseException:  # noqa: BLE001 - any failure is sent to the parent, which fails the build
        send.send(traceback.format_exc())
    finally:
        send.close()
