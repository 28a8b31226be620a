"""Folders compared file by file, and told apart in a few lines when they differ.

pytest explains a failed == between two dicts by a diff of both, printed whole on CI: for
two built sites (the Vega bundle alone is a megabyte) that took minutes a failure and hid
which files differed. conftest's pytest_assertrepr_compare explains two Trees by
explain(): the paths only one holds, and for each file that differs its first differing
lines.
write_later() changes a file so that its stat shows it, however coarse the file system's clock.
"""

from __future__ import annotations

import difflib
import time
from pathlib import Path

SHOWN_FILES = 5  # files whose differing lines an explanation shows
SHOWN_LINES = 12  # lines of each file's diff


class Tree(dict[str, bytes]):
    """Every file under a folder, by its path relative to the folder, with its bytes."""


def tree(root: Path) -> Tree:
    """Every file under root, by relative path, with its bytes."""
    return Tree(
        (path.relative_to(root).as_posix(), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    )


def explain(left: Tree, right: Tree) -> list[str]:
    """Why left != right: the files only one side holds, and how the others differ."""
    lines = [f"the trees differ ({len(left)} files left, {len(right)} right):"]
    for side, ours, theirs in (("left", left, right), ("right", right, left)):
        only = sorted(set(ours) - set(theirs))
        if only:
            lines.append(f"only {side}: {len(only)} files: {', '.join(only[:20])}")
            lines += ["  ..."] if len(only) > 20 else []
    differing = sorted(p for p in set(left) & set(right) if left[p] != right[p])
    if differing:
        lines.append(f"differing: {len(differing)} files: {', '.join(differing[:20])}")
    for path in differing[:SHOWN_FILES]:
        lines.append(f"{path} ({len(left[path])} bytes left, {len(right[path])} right):")
        lines += _first_differences(left[path], right[path])
    return lines


def _first_differences(left: bytes, right: bytes) -> list[str]:
    before = left.decode("utf-8", errors="replace").splitlines()
    after = right.decode("utf-8", errors="replace").splitlines()
    diff = difflib.unified_diff(before, after, "left", "right", n=1, lineterm="")
    shown = [f"  {line[:200]}" for _, line in zip(range(SHOWN_LINES), diff, strict=False)]
    return shown or ["  (the same lines, with different line endings)"]


def write_later(path: Path, data: bytes) -> None:
    """Write data into path so that its ctime and mtime move from what they were, on a file
    system that keeps time in coarse ticks (whole seconds, on some) too: written again, a
    little later each time, until they do."""
    before = path.stat()
    deadline = time.monotonic() + 5
    while True:
        path.write_bytes(data)
        after = path.stat()
        moved = after.st_ctime_ns != before.st_ctime_ns and after.st_mtime_ns != before.st_mtime_ns
        if moved or time.monotonic() > deadline:
            return
        time.sleep(0.05)
