"""Apply a tests/data/invalid/<code>.yaml fixture to a copy of the sample instance.

A fixture starts with directive lines, then the file content:

    #! place: stories/2026/2026-05-01-inv001.yaml   where the content goes
    #! line: 4                                      the line the problem is reported at
    #! expect: path:line                           (optional) where, if not the placed file
    #! remove: responders.csv responses             (optional) paths to delete first
    #! transform: latin-1 | bom | nul | pad         (optional) how to turn the text into bytes
    #! since: HEAD                                  (optional) a change rule: the instance is
                                                    committed to a new git repository first, the
                                                    fixture applied on top, and it is validated
                                                    with --since HEAD
    #! author: login                                (optional, with since) the --author login
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

PAD_TO = 70_000


@dataclass(frozen=True)
class Fixture:
    code: str
    place: str
    path: str
    line: int
    content: bytes
    remove: tuple[str, ...]
    since: str | None = None
    author: str | None = None


def read_fixture(path: Path) -> Fixture:
    directives: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body_start = 0
    for index, line in enumerate(lines):
        if not line.startswith("#! "):
            body_start = index
            break
        key, _, value = line[3:].partition(":")
        directives[key.strip()] = value.strip()
    else:
        body_start = len(lines)
    text = "".join(lines[body_start:])
    transform = directives.get("transform")
    if transform == "latin-1":
        content = text.encode("latin-1")
    elif transform == "bom":
        content = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif transform == "nul":
        content = text.replace("<NUL>", "\x00").encode("utf-8")
    elif transform == "pad":
        content = (text + "# " + "x" * PAD_TO + "\n").encode("utf-8")
    else:
        content = text.encode("utf-8")
    expect = directives.get("expect")
    expected_path, expected_line = (
        expect.rsplit(":", 1) if expect else (directives["place"], directives["line"])
    )
    return Fixture(
        code=path.stem,
        place=directives["place"],
        path=expected_path,
        line=int(expected_line),
        content=content,
        remove=tuple(directives.get("remove", "").split()),
        since=directives.get("since"),
        author=directives.get("author"),
    )


def apply_fixture(fixture: Fixture, data_dir: Path) -> None:
    for name in fixture.remove:
        target = data_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    if fixture.content:
        target = data_dir / fixture.place
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fixture.content)


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Run git in repo with a fixed identity and no user configuration; its output."""
    import os

    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_IDENTITY},
    )
    return result.stdout


def commit_all(repo: Path, message: str = "base") -> None:
    """Make repo a git repository (if it is not one) and commit everything in it."""
    if not (repo / ".git").exists():
        git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
