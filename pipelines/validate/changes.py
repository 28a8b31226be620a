"""Change rules against a base revision (`feedback validate --since REF`), read with git.

A pull request may add stories. Changing or deleting an existing story needs a row for it in
moderation.csv in the same change; a response may be added or changed only by a login listed
in responders.csv for its provider (the pull request's author, given with --author, never read
from the files); moderation.csv is append-only.

Only the record files that changed are read, with the stories their responses point at (so
the cross-file rules can compare them), and every CSV table. Ids of the record files that
were not read come from the file listing, so references to them resolve without parsing.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.load import Dataset, Location, load_dataset, max_file_bytes
from pipelines.logs import get_logger
from pipelines.package import SourcePackage
from pipelines.problems import Problem, quote
from pipelines.validate.codes import code
from pipelines.validate.corpus import Fingerprint, unread_stories
from pipelines.validate.rules import Context, rule

log = get_logger(__name__)


class ChangeError(Exception):
    """The base revision cannot be read: not a git repository, or an unknown ref."""


@dataclass(frozen=True)
class ChangeSet:
    """What changed in the data folder since a base revision; paths relative to the folder."""

    base: str
    author: str | None
    added: frozenset[str]
    modified: frozenset[str]
    deleted: frozenset[str]
    base_moderation: str | None  # moderation.csv as it was at the base revision
    # responders.csv at the base revision: a pull request cannot authorise itself by adding
    # its author to responders.csv and a response together.
    base_responders: str | None = None
    # The commit compared with: where HEAD's history left base (git merge-base), or base.
    since: str = ""

    @property
    def changed(self) -> frozenset[str]:
        return self.added | self.modified


def _git(data_dir: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=data_dir, capture_output=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ChangeError(f"cannot run git: {error}") from error


def _at_base(data_dir: Path, base: str, path: str) -> str | None:
    shown = _git(data_dir, "show", f"{base}:./{path}")
    return shown.stdout.decode("utf-8", errors="replace") if shown.returncode == 0 else None


def read_changes(
    data_dir: Path,
    base: str,
    author: str | None,
    moderation_path: str = "moderation.csv",
    responders_path: str = "responders.csv",
) -> ChangeSet:
    """The files added, modified and deleted under data_dir (committed or not) since the
    commit where HEAD's history left base (git merge-base), or since base itself when they
    share no history."""
    found = _git(data_dir, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if found.returncode != 0:
        raise ChangeError(
            f"{base!r} is not a revision git knows in {data_dir}: fetch it first "
            "(actions/checkout with fetch-depth: 0), or pass a branch, tag or commit"
        )
    # Compare with where this branch left REF (as a pull request's diff does), so that
    # stories added to REF since then do not count as deleted here.
    fork_point = _git(data_dir, "merge-base", base, "HEAD")
    since = fork_point.stdout.decode().strip() if fork_point.returncode == 0 else base
    diff = _git(data_dir, "diff", "--name-status", "--no-renames", "--relative", "-z", since)
    if diff.returncode != 0:
        raise ChangeError(f"git diff failed: {diff.stderr.decode(errors='replace').strip()}")
    added: set[str] = set()
    modified: set[str] = set()
    deleted: set[str] = set()
    parts = diff.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    for status, name in zip(parts[0::2], parts[1::2], strict=False):
        if not name:
            continue
        {"A": added, "D": deleted}.get(status[:1], modified).add(name)
    untracked = _git(data_dir, "ls-files", "--others", "--exclude-standard", "-z")
    added.update(
        name
        for name in untracked.stdout.decode("utf-8", errors="surrogateescape").split("\0")
        if name
    )
    return ChangeSet(
        base,
        author,
        frozenset(added),
        frozenset(modified),
        frozenset(deleted),
        _at_base(data_dir, since, moderation_path),
        _at_base(data_dir, since, responders_path),
        since,
    )


def _listing(data_dir: Path, folder: str) -> dict[str, str]:
    """Record ids by file name (the stem), to their path relative to data_dir: no parsing."""
    out: dict[str, str] = {}
    root = os.path.join(data_dir, folder)
    for parent, _dirs, names in os.walk(root):
        relative = os.path.relpath(parent, data_dir).replace(os.sep, "/")
        for name in names:
            if name.endswith(".yaml") and not name.startswith("."):
                out[name[: -len(".yaml")]] = f"{relative}/{name}"
    return out


@dataclass(frozen=True)
class SinceLoad:
    """The dataset read for --since, and what the rules need to know about the rest."""

    dataset: Dataset
    known_ids: dict[str, frozenset[str]]
    context_only: frozenset[str]  # shown paths read only to check changed files against
    # The published stories not read, to check new ones for duplicates; None when git
    # could not list them.
    unread: list[Fingerprint] | None = None


def load_since(
    data_dir: Path, package: SourcePackage, changes: ChangeSet, cache_dir: Path | None
) -> SinceLoad:
    """The changed record files, the record files they point at, and every CSV table."""
    record_tables = [t for t in package.tables if t.is_file_per_record]
    listings = {t.name: _listing(data_dir, t.path) for t in record_tables}
    changed = sorted(
        name
        for name in changes.changed
        if any(name.startswith(f"{t.path}/") for t in record_tables) and (data_dir / name).is_file()
    )
    dataset = load_dataset(data_dir, only=[str(data_dir / n) for n in changed], cache_dir=cache_dir)
    wanted = set(changed)
    for table in record_tables:
        for fk in table.foreign_keys:
            target = listings.get(fk.resource)
            if target is None or fk.reference_fields != ("id",):
                continue
            for row in dataset.rows(table.name):
                value = row.get(fk.fields[0])
                if value in target:
                    wanted.add(target[value])
    context = frozenset(wanted - set(changed))
    if context:
        dataset = load_dataset(
            data_dir, only=[str(data_dir / n) for n in sorted(wanted)], cache_dir=cache_dir
        )
    unread = unread_stories(
        data_dir,
        dataset.display_dir,
        package,
        changes.since or changes.base,
        changes.changed | changes.deleted,
        max_file_bytes(dataset.tables["instance"]),
        cache_dir,
    )
    return SinceLoad(
        dataset,
        {name: frozenset(ids) for name, ids in listings.items()},
        frozenset(f"{dataset.display_dir}/{name}" for name in context),
        unread,
    )


def _base_rows(text: str | None, names: list[str]) -> list[dict[str, str | None]]:
    if not text:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [
        {name: (row.get(name) or None) for name in names}
        for row in reader
        if any(value for value in row.values() if isinstance(value, str))
    ]


def _added_log_rows(ctx: Context, changes: ChangeSet) -> list[dict[str, str | None]]:
    names = ctx.dataset.package.table("moderation").field_names
    base = _base_rows(changes.base_moderation, names)
    current = [dict(row) for row in ctx.dataset.rows("moderation")]
    remaining = list(base)
    added = []
    for row in current:
        if row in remaining:
            remaining.remove(row)
        else:
            added.append(row)
    return added


@rule(
    "story-changed-without-log",
    "story-deleted-without-log",
    "response-author-not-responder",
    "moderation-log-rewritten",
)
def change_rules(ctx: Context) -> Iterator[Problem]:
    """With --since: edits and deletions are logged, responders are listed, the log only grows."""
    changes: ChangeSet | None = ctx.changes
    if changes is None:
        return
    shown_dir = ctx.dataset.display_dir
    stories = ctx.dataset.package.table("stories")
    logged = {row.get("story") for row in _added_log_rows(ctx, changes)}
    where: dict[str, Location] = {
        location.path: location for location in ctx.dataset.tables["stories"].locations
    }
    for name in sorted(changes.modified | changes.deleted):
        if not name.startswith(f"{stories.path}/") or not name.endswith(".yaml"):
            continue
        story_id = name.rsplit("/", 1)[-1][: -len(".yaml")]
        if story_id in logged:
            continue
        shown = f"{shown_dir}/{name}"
        if name in changes.deleted:
            yield Problem(
                shown,
                0,
                "(file)",
                "story-deleted-without-log",
                f"the story kept, or a row in moderation.csv for {story_id}",
                "the file deleted",
                "restore the file; to withdraw the story, set status: withdrawn and add a row to moderation.csv.",
            )
        else:
            location = where.get(shown)
            yield Problem(
                shown,
                location.of("id")[1] if location else 0,
                "id",
                "story-changed-without-log",
                f"a new row in moderation.csv for {story_id} (edited, redacted or withdrawn)",
                "a change to a story already in the commons",
                f"add a row to moderation.csv for {story_id} with the action and a reason code, or undo the change.",
            )
    yield from _responders(ctx, changes)
    yield from _append_only(ctx, changes)


def _responders(ctx: Context, changes: ChangeSet) -> Iterator[Problem]:
    if changes.author is None:
        return
    shown_dir = ctx.dataset.display_dir
    changed = {f"{shown_dir}/{name}" for name in changes.changed}
    allowed: dict[str, set[str]] = {}
    names = ctx.dataset.package.table("responders").field_names
    for row in _base_rows(changes.base_responders, names):
        allowed.setdefault(row.get("provider") or "", set()).add((row.get("login") or "").lower())
    for _typed, written, location in ctx.rows("responses"):
        if location.path not in changed:
            continue
        provider = written.get("provider") or ""
        if changes.author.lower() in allowed.get(provider, set()):
            continue
        field_name, line = location.of("responder")
        yield Problem(
            location.path,
            line,
            field_name,
            "response-author-not-responder",
            f"a pull request by a login listed in responders.csv for {quote(provider)} before this change",
            f"a pull request by {quote(changes.author)}",
            f"open the pull request from a login listed for {provider}, or ask a maintainer to add {changes.author} to responders.csv.",
            code("response-author-not-responder").severity,
        )


def _append_only(ctx: Context, changes: ChangeSet) -> Iterator[Problem]:
    table = ctx.dataset.tables["moderation"]
    names = table.table.field_names
    base = _base_rows(changes.base_moderation, names)
    current = table.rows
    shown = f"{ctx.dataset.display_dir}/{table.table.path}"
    for index, old in enumerate(base):
        if index < len(current) and dict(current[index]) == old:
            continue
        line = table.locations[index].line if index < len(current) else 0
        got = (
            f"the row now reads {quote(','.join(v or '' for v in current[index].values()))}"
            if index < len(current)
            else "the row removed"
        )
        yield Problem(
            shown,
            line,
            "(row)",
            "moderation-log-rewritten",
            f"row {index + 1} unchanged: {quote(','.join(v or '' for v in old.values()))}",
            got,
            "restore the rows that were there before exactly, in order, and add new rows at the end.",
        )
        return  # one report: every later row is out of step once one is
