"""Full-text search: Pagefind indexes every published story and every provider into pagefind/.

Pagefind is given the text we already hold (one custom record a page) rather than the built
HTML, and the records are split by a hash of their address into shards of bounded size, each
its own Pagefind index, merged in the browser (Pagefind's mergeIndex). A shard whose records
are unchanged since the previous build is kept as the previous output holds it, so one new
story re-indexes one shard, and no Pagefind process ever holds more than one shard.

Pagefind answers a word it cannot find with the longest prefix it can ("for" for "forty"),
and each shard would do so on its own. So one more small index, words/, holds a record per
shard listing every word in it: the search page first asks it which shards hold the words
searched for, then searches those shards only (tests/test_browser.py checks both).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import gzip
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipelines import cachefiles, isolated
from pipelines.cores import usable_cores
from pipelines.logs import get_logger
from pipelines.records import Commons, Story
from pipelines.staging import Staging
from pipelines.website.filters import month_name

log = get_logger(__name__)

BUNDLE_DIR = "pagefind"
# Which shards the search page loads, what each holds, and which words/ record is which shard.
MANIFEST = "shards.json"
MANIFEST_FORMAT = 2
# The index of each shard's words, and the bundle holding Pagefind's scripts and WebAssembly.
WORDS_DIR = "words/"
# The filter that tells the words/ records from the shards' pages (search.js uses it too).
PART_FILTER = "part"
# At most this many records a shard on average, so that indexing one shard is quick and its
# memory bounded; the number of shards is a power of two, so records move between shards
# only when the commons doubles in size.
SHARD_RECORDS = 2048
# What a merged shard needs besides its pagefind-entry.json and *.pf_meta: Pagefind's
# script, worker, WebAssembly and UI files are loaded from words/ only.
SHARD_FOLDERS = ("fragment", "index", "filter")
# The folder of a build's cache_dir where each shard's words are kept, by the shard's digest.
WORDS_CACHE = "search-words"


class SearchError(Exception):
    """Pagefind is missing or failed (an operator error, not a data problem)."""


@dataclass(frozen=True)
class SearchResult:
    pages: int  # records indexed, in all shards
    shards: int
    indexed: int  # shards indexed by this build
    # Index folders ("07/", "words/") of the previous output unchanged, so not written again.
    kept: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchRecord:
    """One page as search sees it: its address relative to the site root, title and text."""

    url: str  # "stories/2026-01-10-bbbb02/"
    title: str
    content: str


def _sentences(parts: Iterable[str | None]) -> str:
    """Parts run together as sentences, as Pagefind joins an HTML page's blocks."""
    found = []
    for part in parts:
        text = " ".join((part or "").split())
        if text:
            found.append(text if text[-1] in ".!?" else f"{text}.")
    return " ".join(found)


def search_records(commons: Commons) -> list[SearchRecord]:
    """A record for each provider and published story: what a reader would search them by.

    Tombstones and list pages are not searched: a withdrawn story's text is gone, and a list
    page only repeats what its stories' own records hold.
    """
    kinds = {k.id: k.name for k in commons.kinds}
    areas = {a.id: a.name for a in commons.areas}
    tags = {t.id: t.name for t in commons.tags}
    providers = {p.id: p for p in commons.providers}
    responses: dict[str, list[str | None]] = {}
    for response in sorted(commons.responses, key=lambda r: (r.date, r.id)):
        responses.setdefault(response.story, []).extend((response.text, response.change_summary))
    records = [
        SearchRecord(
            f"providers/{p.id}/",
            p.name,
            _sentences(
                (
                    p.name,
                    kinds.get(p.kind, p.kind),
                    areas.get(p.area, p.area),
                    p.address,
                    p.postcode,
                    providers[p.part_of].name if p.part_of in providers else None,
                )
            ),
        )
        for p in commons.providers
    ]

    def story_record(story: Story) -> SearchRecord:
        provider = providers.get(story.provider)
        return SearchRecord(
            f"stories/{story.id}/",
            story.title,
            _sentences(
                (
                    story.title,
                    provider.name if provider else story.provider,
                    story.service,
                    f"Happened in {month_name(story.experienced)}",
                    f"Shared by {story.author_pseudonym}",
                    story.story,
                    *(tags.get(t, t) for t in (*story.good, *story.better)),
                    *responses.get(story.id, ()),
                )
            ),
        )

    records.extend(story_record(s) for s in commons.stories if s.published)
    return sorted(records, key=lambda r: r.url)


def shard_count(records: int) -> int:
    """The fewest shards, a power of two, that hold records at SHARD_RECORDS a shard."""
    count = 1
    while count * SHARD_RECORDS < records:
        count *= 2
    return count


def shard_of(url: str, shards: int) -> int:
    """Which of shards holds a record: from its address alone, the same on every build."""
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big") % shards


@dataclass(frozen=True)
class Shard:
    path: str  # inside the bundle: "07/", or WORDS_DIR
    records: tuple[SearchRecord, ...]
    digest: str  # of Pagefind's version, the language and every record


def words_of(shard: Shard) -> str:
    """Every word in a shard's records, once each: its record in the words/ index."""
    found: set[str] = set()
    for record in shard.records:
        found.update(f"{record.title} {record.content}".lower().split())
    return " ".join(sorted(found))


def plan_words(
    shards: list[Shard], language: str, version: str, words_cache: Path | None = None
) -> Shard:
    """The words/ index: one record a shard, changed whenever any shard is.

    With words_cache, a folder, each shard's words are kept there under the shard's digest,
    and only the words of a shard not seen before are listed again: after one new story,
    one shard's of 64.
    """
    digest = hashlib.sha256(f"{MANIFEST_FORMAT}\0{version}\0{language}\0words\0".encode())
    for shard in shards:
        digest.update(f"{shard.path}\0{shard.digest}\0".encode())
    records = tuple(
        SearchRecord(f"{BUNDLE_DIR}/{shard.path}", shard.path, _words(shard, words_cache))
        for shard in shards
    )
    if words_cache is not None:
        _forget_other_words(words_cache, {_words_name(shard) for shard in shards})
    return Shard(WORDS_DIR, records, digest.hexdigest())


@functools.cache
def _words_code() -> str:
    """A digest of words_of's source: words listed by other code are not used."""
    return hashlib.sha256(inspect.getsource(words_of).encode("utf-8")).hexdigest()[:16]


def _words_name(shard: Shard) -> str:
    """The name a shard's words are kept under: its records' digest and the code's."""
    return f"{shard.digest}-{_words_code()}.txt"


def _words(shard: Shard, words_cache: Path | None) -> str:
    """words_of(shard), from words_cache when it holds them, else listed (and kept there)."""
    if words_cache is None:
        return words_of(shard)
    path = words_cache / _words_name(shard)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass  # not listed yet (or unreadable): list them
    words = words_of(shard)
    cachefiles.keep(path, words.encode("utf-8"), "the words of a search shard")
    return words


def _forget_other_words(words_cache: Path, names: set[str]) -> None:
    """Remove the kept words of shards no longer in the index, so the cache stays small."""
    try:
        kept = list(words_cache.glob("*.txt"))
    except OSError:
        return
    for path in kept:
        if path.name not in names:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def plan_shards(records: list[SearchRecord], language: str, version: str) -> list[Shard]:
    """Records split into shards, each with a digest that changes whenever its index would."""
    count = shard_count(len(records))
    width = len(str(count - 1))
    members: list[list[SearchRecord]] = [[] for _ in range(count)]
    for record in records:
        members[shard_of(record.url, count)].append(record)
    shards = []
    for number, found in enumerate(members):
        if not found:
            continue
        digest = hashlib.sha256(f"{MANIFEST_FORMAT}\0{version}\0{language}\0".encode())
        for record in found:
            digest.update(f"{record.url}\0{record.title}\0{record.content}\0".encode())
        shards.append(Shard(f"{number:0{width}d}/", tuple(found), digest.hexdigest()))
    return shards


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


def _environment() -> dict[str, str]:
    # Configuration is what we send only: no pagefind.yml, no PAGEFIND_* variables.
    return {k: v for k, v in os.environ.items() if not k.startswith("PAGEFIND_")}


def _failed(detail: str) -> SearchError:
    lines = detail.strip().splitlines()
    return SearchError("Pagefind could not index the site" + (f": {lines[-1]}" if lines else ""))


def pagefind_version(executable: Path) -> str:
    """What `pagefind --version` says: part of every shard's digest."""
    try:
        done = subprocess.run(
            [str(executable), "--version"],
            env=_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise SearchError(f"could not run Pagefind ({executable}): {error.strerror}") from error
    if done.returncode != 0:
        raise _failed(done.stderr or done.stdout or f"exit code {done.returncode}")
    return done.stdout.strip()


class _Service:
    """One `pagefind --service` process, spoken to in its protocol: base64 JSON, comma-ended.

    Pagefind's own Python client polls for each answer every tenth of a second, which would
    take hours for a national commons; this one streams requests from a thread and reads the
    answers as they come.
    """

    def __init__(self, executable: Path, errors: IO[bytes]) -> None:
        self.errors = errors
        try:
            self.process = subprocess.Popen(
                [str(executable), "--service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=_environment(),
            )
        except OSError as error:
            raise SearchError(f"could not run Pagefind ({executable}): {error.strerror}") from error
        self.sent = 0
        self.pending: list[bytes] = []  # the start of an answer still coming
        self.ready: deque[bytes] = deque()  # answers read but not yet returned

    def close(self) -> None:
        """Stop it: once its answers are in, it has nothing left to do.

        Not by closing its input and waiting for it to see the end: a process forked while
        it runs (the build renders pages in forked processes meanwhile) holds that pipe open.
        """
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass  # a write it never read: it has stopped anyway

    def _write(self, payloads: Iterable[dict[str, Any]]) -> None:
        assert self.process.stdin is not None
        for payload in payloads:
            self.sent += 1
            message = json.dumps({"message_id": self.sent, "payload": payload})
            self.process.stdin.write(base64.b64encode(message.encode("utf-8")) + b",")
        self.process.stdin.flush()

    def _answer(self) -> dict[str, Any]:
        """The next answer, read in large chunks (an answer with every file can be many MB)."""
        assert self.process.stdout is not None
        while not self.ready:
            chunk = os.read(self.process.stdout.fileno(), 1 << 16)
            if not chunk:
                self.process.wait()
                self.errors.seek(0)
                raise _failed(
                    self.errors.read().decode("utf-8", "replace")
                    or f"Pagefind stopped (exit code {self.process.returncode})"
                )
            *complete, rest = chunk.split(b",")
            for part in complete:
                self.pending.append(part)
                self.ready.append(b"".join(self.pending))
                self.pending = []
            self.pending.append(rest)
        payload: dict[str, Any] = json.loads(base64.b64decode(self.ready.popleft()))["payload"]
        if payload.get("type") == "Error":
            raise _failed(str(payload.get("message", "")))
        return payload

    def request(self, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send every payload, and return their answers once all have come."""

        def write() -> None:
            try:
                self._write(payloads)
            except OSError:
                pass  # it stopped: reading its answers says why

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        try:
            return [self._answer() for _ in payloads]
        except BaseException:
            self.process.kill()  # else a writer blocked on a full pipe would never finish
            raise
        finally:
            writer.join()


def _wanted(path: str, bundle: bool) -> bool:
    """Whether an index keeps one of Pagefind's files: merged shards need only their index."""
    if bundle:
        return True
    return (
        path.split("/", 1)[0] in SHARD_FOLDERS
        or path == "pagefind-entry.json"
        or path.endswith(".pf_meta")
    )


def _fragment_url(content: bytes) -> str:
    """The address in one of Pagefind's fragment files (gzip, a signature, then JSON)."""
    raw = gzip.decompress(content).removeprefix(b"pagefind_dcd")
    return str(json.loads(raw)["url"])


def _index_shard(executable: Path, shard: Shard, language: str) -> list[tuple[str, bytes]]:
    """One shard's Pagefind index, with one Pagefind process of its own: (path, bytes) a file.

    The files are asked for (GetFiles) and written by _write_files rather than by Pagefind's
    WriteFiles: its answer can come before its last file is on disk, and its writes cost
    more system time than ours. Only the files the shard keeps are decoded.
    """
    words = shard.path == WORDS_DIR
    with tempfile.TemporaryFile() as errors:
        service = _Service(executable, errors)
        try:
            (created,) = service.request([{"type": "NewIndex", "config": None}])
            index = created["index_id"]
            service.request(
                [
                    {
                        "type": "AddRecord",
                        "index_id": index,
                        "url": f"/{record.url}",
                        "content": record.content,
                        "language": language,
                        "meta": {"title": record.title},
                        "filters": {PART_FILTER: ["words"]} if words else None,
                        "sort": None,
                    }
                    for record in shard.records
                ]
            )
            (written,) = service.request([{"type": "GetFiles", "index_id": index}])
        finally:
            service.close()
    files = []
    for item in written["files"]:
        path = str(item["path"])
        if path.startswith("/") or "\\" in path or ".." in path.split("/"):
            raise SearchError(f"Pagefind named a file outside its folder: {path}")
        if _wanted(path, words):
            files.append((path, binascii.a2b_base64(item["content"])))
    if not any(path == "pagefind-entry.json" for path, _ in files):
        raise SearchError(f"Pagefind wrote no index for {shard.path}")
    return files


def _write_files(folder: Path, files: list[tuple[str, bytes]]) -> None:
    """Write an index's files: plain os calls, each folder made once (100,000 fragments)."""
    root = str(folder)
    made = set()
    for path, content in files:
        parent = os.path.dirname(path)
        if parent not in made:
            os.makedirs(os.path.join(root, parent), exist_ok=True)
            made.add(parent)
        handle = os.open(os.path.join(root, path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)


def _fragment_ids(files: list[tuple[str, bytes]]) -> dict[str, str]:
    """Each page's id (its fragment's name, as the browser sees it) by address."""
    return {
        _fragment_url(content): path.removeprefix("fragment/").removesuffix(".pf_fragment")
        for path, content in files
        if path.startswith("fragment/")
    }


def _previous_manifest(previous: Path | None) -> dict[str, Any]:
    """An earlier build's manifest; empty when it has none this build can use."""
    if previous is None:
        return {}
    try:
        manifest = json.loads((previous / BUNDLE_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return {}
    return manifest


def _reusable(manifest: dict[str, Any], previous: Path | None) -> dict[str, str]:
    """Digest by index path (shards and words/) that previous holds complete."""
    if previous is None:
        return {}
    try:
        found = {str(s["path"]): str(s["digest"]) for s in manifest.get("shards", [])}
        if "words" in manifest:
            found[WORDS_DIR] = str(manifest["words"]["digest"])
    except (KeyError, TypeError):
        return {}
    return {
        path: digest
        for path, digest in found.items()
        if (previous / BUNDLE_DIR / path / "pagefind-entry.json").is_file()
    }


def build_search_index(
    output_dir: Path,
    records: list[SearchRecord],
    language: str,
    previous: Path | None = None,
    words_cache: Path | None = None,
) -> SearchResult:
    """Index records into output_dir/pagefind/, one Pagefind index a shard, offline.

    With previous (an earlier complete build), an index whose digest is unchanged is not
    indexed again: it is left out of output_dir and named in the result's kept, for the
    caller to keep previous's copy. Nothing is left half-written on failure. words_cache
    is a folder where each shard's words are kept for the next build (plan_words).
    """
    # The browser looks the index up by the page's <html lang>, lowercased.
    language = language.lower()
    bundle = output_dir / BUNDLE_DIR
    executable = _pagefind() if records else None
    if bundle.exists():
        shutil.rmtree(bundle)
    if executable is None:
        # Pagefind needs something to index; the search page says there is nothing yet.
        log.info("no story or provider to index: no search index written")
        return SearchResult(pages=0, shards=0, indexed=0)
    try:
        version = pagefind_version(executable)
        shards = plan_shards(records, language, version)
        words = plan_words(shards, language, version, words_cache)
        before = _previous_manifest(previous)
        reusable = _reusable(before, previous)
        bundle.mkdir(parents=True)
        todo, kept = [], []
        for index in (words, *shards):
            if previous is not None and reusable.get(index.path) == index.digest:
                kept.append(index.path)
            else:
                todo.append(index)
        # One Pagefind process a core; one thread writes the files of each index as it comes,
        # so that a core never waits on the disk between one shard and the next.
        workers = max(1, min(usable_cores(), len(todo)))
        word_files: list[tuple[str, bytes]] = []

        def index_then_write(index: Shard) -> Future[None]:
            files = _index_shard(executable, index, language)
            if index.path == WORDS_DIR:
                word_files.extend(files)
            return writer.submit(_write_files, bundle / index.path, files)

        with (
            ThreadPoolExecutor(max_workers=1) as writer,
            ThreadPoolExecutor(max_workers=workers) as pool,
        ):
            done = [pool.submit(index_then_write, index) for index in todo]
            for future in done:
                future.result().result()
        if word_files:
            by_url = _fragment_ids(word_files)
            fragments = {by_url[f"/{r.url}"]: r.title for r in words.records}
        else:
            fragments = dict(before["words"]["fragments"])
        manifest = {
            "format": MANIFEST_FORMAT,
            "shards": [
                {"path": s.path, "digest": s.digest, "records": len(s.records)} for s in shards
            ],
            "words": {"path": WORDS_DIR, "digest": words.digest, "fragments": fragments},
        }
        (bundle / MANIFEST).write_text(
            json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    except BaseException:
        shutil.rmtree(bundle, ignore_errors=True)  # never leave half an index behind
        raise
    indexed = sum(1 for index in todo if index.path != WORDS_DIR)
    log.info(
        "indexed %d records for search in %d shards (%d indexed, %d unchanged)",
        len(records),
        len(shards),
        indexed,
        len(shards) - indexed,
    )
    return SearchResult(len(records), len(shards), indexed, tuple(kept))


class SearchIndexing:
    """The search index built in a child process while the rest of the site is built.

    It needs the valid commons only, so the build starts it before the data package and
    the pages. A process of its own, not a thread: making the records and planning the
    shards is Python work that would take turns with the pages' for the one interpreter
    lock. It writes into a folder of its own beside the site: finish() waits for it and
    moves the index into the site; close() stops it and removes that folder, whatever
    happened.
    """

    def __init__(
        self,
        commons: Commons,
        beside: Path,
        previous: Path | None = None,
        cache_dir: Path | None = None,
        niceness: int = 0,
    ) -> None:
        beside.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix=".search.", dir=beside))
        words_cache = None if cache_dir is None else cache_dir / WORDS_CACHE
        self._running = isolated.beside(
            _index, commons, self.folder, previous, words_cache, niceness=niceness
        )

    def finish(self, site: Staging) -> SearchResult:
        """Wait for the index, move it into site's pagefind/ and keep the indexes unchanged
        in site's previous output (raises its SearchError)."""
        result = self._running.result()
        if (self.folder / BUNDLE_DIR).exists():
            (self.folder / BUNDLE_DIR).rename(site.dir / BUNDLE_DIR)
        for path in result.kept:
            site.keep_tree(f"{BUNDLE_DIR}/{path}")
        return result

    def close(self) -> None:
        self._running.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _index(
    commons: Commons, folder: Path, previous: Path | None, words_cache: Path | None
) -> SearchResult:
    language = commons.instance.language
    return build_search_index(folder, search_records(commons), language, previous, words_cache)
