"""A folder's files by stat, as one digest: whether anything in it changed, without reading it.

Like git's index: a file whose size, inode, mtime and ctime are all as recorded has not been
written since. A digest, not the listing, is what a build keeps: at 100,000 stories the
listings ran to tens of MB of JSON to read back.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from pipelines.cores import usable_cores

Lines = tuple[list[str], int]  # a line per file, and the newest ctime among them


def _line(entry: os.DirEntry[str], cut: int) -> tuple[str, int]:
    """A file's line (its path after cut characters, size, inode, mtime, ctime) and ctime."""
    info = entry.stat(follow_symlinks=False)
    return _format(entry.path[cut:], info), info.st_ctime_ns


def _format(name: str, info: os.stat_result) -> str:
    return f"{name}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\n"


def line_of(root: Path, name: str) -> str:
    """The line listing() makes for the file name (a path relative to root), stat now."""
    return _format(name, os.stat(os.path.join(root, name), follow_symlinks=False))


def name_of(line: str) -> str:
    """The file a line is about, as a path relative to the listed folder."""
    return line.partition("\0")[0]


def stat_of(line: str) -> tuple[int, int, int]:
    """The size, inode and mtime a line records: what still_holds compares."""
    _, size, inode, mtime, _ = line.split("\0", 4)
    return int(size), int(inode), int(mtime)


def digest_of(lines: Iterable[str]) -> str:
    """The digest listing() gives for a folder whose files have these lines."""
    return hashlib.sha256("".join(sorted(lines)).encode("utf-8", "surrogateescape")).hexdigest()


def still_holds(
    path: Path, recorded: tuple[int, int, int], digest: str, digest_of_file: Callable[[Path], str]
) -> os.stat_result | None:
    """path's stat when it still holds the bytes recorded, else None (also when it is gone).

    recorded is the file's size, inode and mtime then, digest that of its bytes. A file whose
    stat is as recorded is not read; one whose stat alone changed (restored from a CI cache,
    copied, moved across disks) is read and digested with digest_of_file.
    """
    try:
        info = os.stat(path)
        if (info.st_size, info.st_ino, info.st_mtime_ns) == recorded:
            return info
        if info.st_size != recorded[0] or digest_of_file(path) != digest:
            return None
    except OSError:
        return None
    return info


def _one_folder(folder: str, cut: int, skip: frozenset[str]) -> tuple[list[str], int, list[str]]:
    """A line per file directly in folder, the newest ctime among them, and the folders in
    it (leaving out those named in skip)."""
    found = []
    newest = 0
    folders = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in skip:
                    folders.append(entry.path)
            else:
                line, ctime = _line(entry, cut)
                newest = max(newest, ctime)
                found.append(line)
    return found, newest, folders


def _files_under(folder: str, cut: int, skip: frozenset[str]) -> Lines:
    """A line per file under folder, however deep, leaving out folders named in skip."""
    found: list[str] = []
    newest = 0
    pending = [folder]
    while pending:
        lines, ctime, folders = _one_folder(pending.pop(), cut, skip)
        found += lines
        newest = max(newest, ctime)
        pending += folders
    return found, newest


def _digest(parts: list[Lines]) -> tuple[str, int]:
    newest = max((newest for _, newest in parts), default=0)
    return digest_of(line for lines, _ in parts for line in lines), newest


def listing(root: Path, skip: frozenset[str] = frozenset()) -> tuple[str, int]:
    """A digest of every file under root with its size, inode, mtime and ctime; the newest ctime.

    Folders named in skip are left out wherever they are. Raises OSError when root is
    missing or cannot be read.
    """
    return _digest([_files_under(str(root), len(str(root)) + 1, skip)])


def named_listing(root: Path, skip: frozenset[str] = frozenset()) -> tuple[str, str, int]:
    """listing(root, skip)'s digest, a digest of the files' names alone (which changes when
    a file is added, removed or renamed, and only then) and the newest ctime."""
    lines, newest = _files_under(str(root), len(str(root)) + 1, skip)
    return digest_of(lines), _names_digest(name_of(line) for line in lines), newest


def names_digest(root: Path, skip: frozenset[str] = frozenset()) -> str:
    """named_listing(root, skip)'s digest of the files' names, without a stat of each file:
    a tenth of the time, to tell at once that a file was added, removed or renamed."""
    cut = len(str(root)) + 1
    names = []
    pending = [str(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    names.append(entry.path[cut:])
                elif entry.name not in skip:
                    pending.append(entry.path)
    return _names_digest(names)


def _names_digest(names: Iterable[str]) -> str:
    joined = "\n".join(sorted(names))
    return hashlib.sha256(joined.encode("utf-8", "surrogateescape")).hexdigest()


class ParallelListing:
    """listing(root), taken on every core from the moment the with block is entered.

    Each folder at the top is listed by a forked worker while this process gets on (a build
    lists its data meanwhile): at 100,000 stories the output holds 230,000 files, and
    listing them is stat calls and string work that one core does at half the speed.
    Leaving the block ends the workers, whether or not the listing was asked for. Where
    the platform cannot fork, the listing is taken when asked for, in this process.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workers: list[Any] = []
        self._pool: Pool | None = None
        self._pending: AsyncResult[list[Lines]] | None = None
        self._top: Lines = ([], 0)
        self._parts_listed: list[Lines] | None = None

    def __enter__(self) -> ParallelListing:
        cores = usable_cores()
        if cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return self
        try:
            folders = self._list_top()
        except OSError:
            return self  # missing or unreadable: listed() says so
        self._pool = multiprocessing.get_context("fork").Pool(cores)
        self.workers = list(getattr(self._pool, "_pool", []))
        job = functools.partial(_files_under, cut=len(str(self.root)) + 1, skip=frozenset())
        self._pending = self._pool.map_async(job, folders, chunksize=1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()

    def _list_top(self) -> list[str]:
        """The folders at the top; the files there are listed at once."""
        files, newest, folders = _one_folder(str(self.root), len(str(self.root)) + 1, frozenset())
        self._top = (files, newest)
        return sorted(folders)

    def listed(self) -> tuple[str, int]:
        """listing(root): its digest and the newest ctime. Raises OSError as listing() does."""
        return _digest(self._parts())

    def lines(self) -> list[str]:
        """A line per file, as listing() digests them (in no particular order)."""
        return [line for lines, _ in self._parts() for line in lines]

    def _parts(self) -> list[Lines]:
        if self._parts_listed is None:
            if self._pending is None:
                self._parts_listed = [
                    _files_under(str(self.root), len(str(self.root)) + 1, frozenset())
                ]
            else:
                self._parts_listed = [self._top, *self._pending.get()]
        return self._parts_listed

    def digest(self) -> str | None:
        """The digest; None when the folder is missing or could not be listed."""
        try:
            return self.listed()[0]
        except OSError:
            return None
