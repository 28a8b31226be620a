"""What git knows about the data: when it last changed, which commit added each file, releases.

A handful of git calls for the whole data folder, never one per file. Outside a git
checkout (a downloaded copy, a test folder) every answer falls back to the data itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipelines.export.release import Version
from pipelines.logs import get_logger
from pipelines.records import Commons

log = get_logger(__name__)

# Dataset releases: the version tags the release workflow publishes (v1.2.0).
RELEASE_TAGS = "refs/tags/v*"


def _git(data_dir: Path, *args: str) -> str | None:
    """git's output run in data_dir, or None when git or a repository is not there."""
    if shutil.which("git") is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(data_dir), *args],
            capture_output=True,
            check=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except subprocess.CalledProcessError:
        return None
    return done.stdout.decode("utf-8", errors="surrogateescape")


def added_in_commits(data_dir: Path) -> dict[str, str]:
    """Each file's path (relative to data_dir) and the commit that added it, from one git log.

    Empty in a shallow clone, where the oldest commit present would seem to add every file.
    """
    if (_git(data_dir, "rev-parse", "--is-shallow-repository") or "").strip() == "true":
        log.warning("a shallow git clone: the commits that added records are left empty")
        return {}
    out = _git(
        data_dir,
        "log",
        "-z",
        "--no-renames",
        "--diff-filter=A",
        "--name-only",
        "--relative",
        "--format=%x00%H",
        "--",
        ".",
    )
    added: dict[str, str] = {}
    if not out:
        return added
    commit = ""
    expect_commit = False
    # Tokens: "", sha, "\npath", "path", ..., "", sha, ...; newest commit first.
    for token in out.split("\0"):
        if not token:
            expect_commit = True
            continue
        if expect_commit:
            commit, expect_commit = token.strip(), False
            continue
        added.setdefault(token.lstrip("\n"), commit)
    return added


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def created_time(data_dir: Path, commons: Commons) -> str:
    """When the data last changed: its last commit, else SOURCE_DATE_EPOCH, else its latest date."""
    out = _git(data_dir, "log", "-1", "--format=%cI", "--", ".")
    if out and out.strip():
        return _utc(dt.datetime.fromisoformat(out.strip()))
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return _utc(dt.datetime.fromtimestamp(int(epoch), dt.UTC))
    dates = [s.submitted for s in commons.stories]
    dates += [r.date for r in commons.responses] + [m.date for m in commons.moderation]
    latest = max(dates, default=dt.date(1970, 1, 1))
    return _utc(dt.datetime.combine(latest, dt.time(), dt.UTC))


@dataclass(frozen=True)
class _State:
    ids: frozenset[str]
    withdrawn: frozenset[str]


def _withdrawn_in(moderation_csv: str) -> frozenset[str]:
    rows = csv.DictReader(io.StringIO(moderation_csv, newline=""))
    return frozenset(r["story"] for r in rows if r.get("action") == "withdrawn" and r.get("story"))


def _state_at(data_dir: Path, tag: str, stories: str, moderation: str) -> _State:
    listed = _git(data_dir, "ls-tree", "-r", "-z", "--name-only", tag, "--", stories) or ""
    ids = frozenset(Path(p).stem for p in listed.split("\0") if p.endswith(".yaml"))
    log_csv = _git(data_dir, "show", f"{tag}:./{moderation}") or ""
    return _State(ids, _withdrawn_in(log_csv) & ids)


def _changed(data_dir: Path, stories: str, old: str, new: str | None) -> frozenset[str]:
    span = [old] if new is None else [old, new]
    out = _git(data_dir, "diff", "-z", "--name-only", "--no-renames", *span, "--", stories) or ""
    return frozenset(Path(p).stem for p in out.split("\0") if p.endswith(".yaml"))


def _entry(
    version: str, date: str, tag: str | None, old: _State | None, new: _State, changed: frozenset
) -> Version:
    old_ids = old.ids if old else frozenset()
    old_withdrawn = old.withdrawn if old else frozenset()
    withdrawn = new.withdrawn - old_withdrawn
    return Version(
        version=version,
        date=date,
        published=len(new.ids - new.withdrawn),
        withdrawn_total=len(new.withdrawn),
        added=len(new.ids - old_ids),
        withdrawn=len(withdrawn),
        edited=len((changed & old_ids & new.ids) - withdrawn),
        tag=tag,
    )


def release_history(
    data_dir: Path, commons: Commons, version: str, created: str, stories: str, moderation: str
) -> list[Version]:
    """This build and every release tagged v*, newest first, each compared with the one before.

    stories and moderation are the source package's paths of those tables.
    """
    refs = _git(
        data_dir,
        "for-each-ref",
        "--sort=creatordate",
        "--format=%(refname:short)%00%(creatordate:short)",
        RELEASE_TAGS,
    )
    tags = [tuple(line.split("\0")) for line in (refs or "").splitlines() if "\0" in line]
    entries: list[Version] = []
    previous: _State | None = None
    previous_tag: str | None = None
    for tag, date in tags:
        state = _state_at(data_dir, tag, stories, moderation)
        changed = _changed(data_dir, stories, previous_tag, tag) if previous_tag else frozenset()
        entries.append(_entry(tag, date, tag, previous, state, changed))
        previous, previous_tag = state, tag
    current = _State(
        frozenset(s.id for s in commons.stories),
        frozenset(s.id for s in commons.stories if not s.published),
    )
    changed = _changed(data_dir, stories, previous_tag, None) if previous_tag else frozenset()
    entries.append(_entry(version, created[:10], None, previous, current, changed))
    return entries[::-1]
