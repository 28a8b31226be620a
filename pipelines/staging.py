"""Write a folder whole or not at all.

A first build (or one over an output that cannot be trusted) writes every file into a
fresh sibling folder that is renamed into place. A rebuild over a complete earlier output
writes only the files that are new or changed into a small sibling folder and records
which of the output's files it keeps as they are; once every stage has succeeded, apply()
renames each written file into the output, deletes the files the build no longer has and
removes the sibling. Unchanged files are never touched, so they keep their inode and
mtime (what the page state and the build stamp look for), and a rebuild costs what it
changes, not what the site holds. A marker beside the output is written before applying
and removed after: an output whose apply was cut short is not trusted by the next build.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.listing import line_of
from pipelines.logs import get_logger

log = get_logger(__name__)


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


def applying_marker(target: Path) -> Path:
    """The file beside target that says an apply into it has begun and not yet ended."""
    return target.with_name(f".{target.name}.applying")


def half_applied(target: Path) -> bool:
    """Whether an apply into target was cut short: it may hold some of a build's files only."""
    return applying_marker(target).exists()


class Staging:
    """Where a build puts its new and changed files, and which files of previous it keeps.

    dir is the folder to write into, laid out as the output; target is the output. With
    update, target holds a complete earlier output (previous) that apply() updates in
    place; without, dir is to replace target whole and nothing can be kept. Names are
    paths relative to the folder the staging is seen from ("stories/x/index.html").
    """

    def __init__(self, folder: Path, target: Path, update: bool) -> None:
        self.dir = folder
        self.target = target
        self.previous = target if update else None
        self.kept: set[str] = set()  # files, by name from the output's root
        self.kept_trees: set[str] = set()  # folders kept with everything in them
        # previous's files and their listing lines (pipelines.listing), when the build
        # knows previous holds exactly these: the renderers find a kept page's stat here
        # without stat'ing it, apply() deletes without walking previous, and leaves here
        # the lines of the output it made.
        self.listed: dict[str, str] | None = None
        self._prefix = ""

    def within(self, folder: str) -> Staging:
        """The same staging seen from one of its folders: names are relative to it."""
        view = copy.copy(self)  # the kept sets are shared, not copied
        view.dir = self.dir / folder
        view.target = self.target / folder
        view.previous = self.previous / folder if self.previous is not None else None
        view._prefix = f"{self._prefix}{folder}/"
        return view

    def keep(self, name: str) -> None:
        """Leave previous's file name as it is: the new output holds it unchanged."""
        if self.previous is None:
            raise ValueError(f"nothing to keep {name} from: the output is written whole")
        self.kept.add(self._prefix + name)

    def keep_tree(self, name: str) -> None:
        """Leave previous's folder name and everything in it as they are."""
        if self.previous is None:
            raise ValueError(f"nothing to keep {name} from: the output is written whole")
        self.kept_trees.add(self._prefix + name.rstrip("/"))

    def apply(self) -> None:
        """Make previous hold exactly the files written into dir and the files kept.

        Each file is renamed into place (a reader sees the old file or the new one, never
        part of one); the deletions come last, so no page links to one not yet there.
        """
        if self.previous is None or self._prefix:
            raise ValueError("only a whole staging over a previous output is applied")
        marker = applying_marker(self.previous)
        marker.write_bytes(b"")
        written, folders = _move_tree(self.dir, self.previous)
        if self.listed is None:
            removed = _remove_others(self.previous, written | self.kept, self.kept_trees, folders)
        else:
            gone = _remove_listed(
                self.previous, self.listed, written | self.kept, self.kept_trees, folders
            )
            removed = len(gone)
            lines = {name: line for name, line in self.listed.items() if name not in gone}
            lines.update((name, line_of(self.previous, name)) for name in written)
            self.listed = lines
        shutil.rmtree(self.dir)
        marker.unlink()
        log.info(
            "put %d new or changed files in place, kept %d files and %d folders, removed %d",
            len(written),
            len(self.kept),
            len(self.kept_trees),
            removed,
        )


def _move(source: str, target: str) -> None:
    try:
        os.replace(source, target)
    except IsADirectoryError:  # a folder of the previous output is a file now
        shutil.rmtree(target)
        os.replace(source, target)


def _move_tree(source: Path, target: Path) -> tuple[set[str], set[str]]:
    """Rename every file under source to the same place under target; the names moved, and
    the names of source's folders."""
    moved: set[str] = set()
    folders: set[str] = set()
    pending = [""]
    while pending:
        name = pending.pop()
        there = os.path.join(target, name.rstrip("/"))
        if not os.path.isdir(there):
            if os.path.lexists(there):  # a file of the previous output is a folder now
                os.unlink(there)
            os.mkdir(there)
        with os.scandir(os.path.join(source, name)) as entries:
            for entry in entries:
                relative = f"{name}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    folders.add(relative)
                    pending.append(f"{relative}/")
                else:
                    _move(entry.path, os.path.join(target, relative))
                    moved.add(relative)
    return moved, folders


def _remove_others(root: Path, keep: set[str], trees: set[str], folders: set[str]) -> int:
    """Delete every file under root not named in keep or under a folder in trees, and each
    folder left empty that is not in folders; how many files were deleted."""
    removed = 0

    def prune(name: str) -> bool:
        """Clear root/name; whether it is left empty."""
        nonlocal removed
        empty = True
        with os.scandir(os.path.join(root, name)) as entries:
            for entry in entries:
                relative = f"{name}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    if relative in trees:
                        empty = False
                    elif prune(f"{relative}/") and relative not in folders:
                        os.rmdir(entry.path)
                    else:
                        empty = False
                elif relative in keep:
                    empty = False
                else:
                    os.unlink(entry.path)
                    removed += 1
        return empty

    prune("")
    return removed


def _remove_listed(
    root: Path, listed: dict[str, str], keep: set[str], trees: set[str], folders: set[str]
) -> set[str]:
    """As _remove_others, for a root known to hold the files listed only: deletes those not
    in keep or under a folder in trees, and each folder they leave empty that is not in
    folders; the names of the files that are gone."""
    gone: set[str] = set()
    emptied: set[str] = set()
    for name in listed:
        if name in keep or _under(name, trees):
            continue
        try:
            os.unlink(os.path.join(root, name))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass  # the apply put a folder where it was, or a file where its folder was
        else:
            emptied.add(name.rpartition("/")[0])
        gone.add(name)
    # Deepest first, so a folder whose only content was an emptied folder goes too.
    for folder in sorted(emptied, key=lambda f: f.count("/"), reverse=True):
        while folder and folder not in folders:
            try:
                os.rmdir(os.path.join(root, folder))
            except OSError:
                break  # not empty (or gone already)
            folder = folder.rpartition("/")[0]
    return gone


def _under(name: str, trees: set[str]) -> bool:
    """Whether name is in one of the folders trees names."""
    if not trees:
        return False
    folder = name.rpartition("/")[0]
    while folder:
        if folder in trees:
            return True
        folder = folder.rpartition("/")[0]
    return False


@contextmanager
def staged_output(target: Path) -> Iterator[Staging]:
    """A Staging for target, applied when the block succeeds and dropped when it fails.

    When target holds a complete earlier output, the block writes only new and changed
    files and keeps the others; otherwise it writes them all into a fresh folder that
    replaces target.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    folder.chmod(0o755)  # mkdtemp's 0700 would follow the folder onto the web server
    trusted = target.is_dir() and not half_applied(target)
    staging = Staging(folder, target, update=trusted)
    try:
        yield staging
        if staging.previous is not None:
            staging.apply()
        else:
            replace_dir(folder, target)
            applying_marker(target).unlink(missing_ok=True)
    except BaseException:
        # Cut short while applying, the marker stays: the next build writes target whole.
        shutil.rmtree(folder, ignore_errors=True)
        raise
