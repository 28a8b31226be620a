"""The labels the bot manages on a pull request, decided from its files and its report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.bot.client import talking_to_github
from pipelines.package import SourcePackage
from pipelines.problems import Problem, Report

STORY = "story"
RESPONSE = "response"
NEEDS_MODERATION = "needs-moderation"
INVALID = "invalid"
MANAGED = (STORY, RESPONSE, NEEDS_MODERATION, INVALID)
# Colour and description of each managed label, for `feedback bot labels`.
DEFINITIONS = {
    STORY: ("0e8a16", "Adds or changes a story"),
    RESPONSE: ("1d76db", "Adds or changes a provider's response"),
    NEEDS_MODERATION: ("fbca04", "A moderator needs to look closely"),
    INVALID: ("d73a4a", "The check found errors, or a response its author may not give"),
}


@dataclass(frozen=True, order=True)
class ChangedFile:
    """One file a pull request changes, as GitHub's API lists it (never as the branch claims)."""

    path: str
    status: str  # added, modified, removed, renamed, copied, changed, unchanged
    previous_path: str | None = None


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def decide_labels(
    files: Sequence[ChangedFile],
    report: Report,
    refused: Iterable[Problem],
    package: SourcePackage,
    data_prefix: str,
) -> set[str]:
    """story / response: it touches those files; needs-moderation: it changes or removes a
    published story, removes a response, touches the moderation log or who may respond, or
    has warnings; invalid: errors, or a response its author may not give."""
    stories = f"{data_prefix}/{package.table('stories').path}"
    responses = f"{data_prefix}/{package.table('responses').path}"
    guarded = {f"{data_prefix}/{package.table(name).path}" for name in ("moderation", "responders")}
    paths = [(f.path, f.status) for f in files] + [
        (f.previous_path, "removed") for f in files if f.previous_path
    ]
    labels = set()
    if any(_under(path, stories) for path, _ in paths):
        labels.add(STORY)
    if any(_under(path, responses) for path, _ in paths):
        labels.add(RESPONSE)
    if (
        any(_under(path, stories) and status != "added" for path, status in paths)
        or any(_under(path, responses) and status == "removed" for path, status in paths)
        or any(path in guarded for path, _ in paths)
        or report.warnings
    ):
        labels.add(NEEDS_MODERATION)
    if report.errors or any(True for _ in refused):
        labels.add(INVALID)
    return labels


@dataclass(frozen=True)
class LabelChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]


def sync_labels(issue: Any, wanted: set[str]) -> LabelChange:
    """Add the wanted managed labels and remove the managed ones no longer wanted; others stay."""
    current = {label.name for label in issue.original_labels}
    added = tuple(sorted(wanted - current))
    removed = tuple(sorted((current & set(MANAGED)) - wanted))
    if added:
        with talking_to_github(f"adding the labels {', '.join(added)} to #{issue.number}"):
            issue.add_labels(*added)
    for name in removed:
        with talking_to_github(f"removing the label {name} from #{issue.number}"):
            issue.remove_label(name)
    return LabelChange(added, removed)


def create_missing_labels(repo: Any) -> tuple[str, ...]:
    """Create the managed labels the repository lacks (the story form needs "story" to exist)."""
    with talking_to_github(f"listing the labels of {repo.full_name}"):
        present = {label.name.lower() for label in repo.labels()}
    missing = tuple(name for name in sorted(DEFINITIONS) if name.lower() not in present)
    for name in missing:
        colour, description = DEFINITIONS[name]
        with talking_to_github(f"creating the label {name}"):
            repo.create_label(name, colour, description)
    return missing
