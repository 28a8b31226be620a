"""A pull request adding files, made through the Git data API: all of it or none of it.

blob per file -> tree on the base commit's tree -> commit -> branch ref -> pull request.
Blobs, trees and commits nothing points to are invisible and collected by GitHub; the one
visible thing made before the pull request is the branch, so when the pull request cannot
be opened the branch is deleted again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from github3 import exceptions as gh_errors

from pipelines.bot.client import BotError, describe, talking_to_github
from pipelines.logs import get_logger

log = get_logger(__name__)

FILE_MODE = "100644"


@dataclass(frozen=True)
class OpenedPullRequest:
    number: int
    url: str
    branch: str


def branch_exists(repo: Any, branch: str) -> bool:
    """True when refs/heads/<branch> exists (GitHub answers 404 when it does not)."""
    try:
        with talking_to_github(f"looking for the branch {branch}"):
            repo.ref(f"heads/{branch}")
    except BotError as error:
        if isinstance(error.__cause__, gh_errors.NotFoundError):
            return False
        raise
    return True


def open_pull_request(
    repo: Any,
    base: str,
    branch: str,
    files: Mapping[str, str],
    message: str,
    title: str,
    body: str,
) -> OpenedPullRequest:
    """Commit files on top of base in a new branch and open a pull request from it."""
    with talking_to_github(f"reading the branch {base}"):
        base_ref = repo.ref(f"heads/{base}")
        base_commit = repo.git_commit(base_ref.object.sha)
    tree = []
    for path, text in sorted(files.items()):
        with talking_to_github(f"uploading {path}"):
            sha = repo.create_blob(text, "utf-8")
        tree.append({"path": path, "mode": FILE_MODE, "type": "blob", "sha": sha})
    with talking_to_github("making the commit"):
        new_tree = repo.create_tree(tree, base_tree=base_commit.tree.sha)
        commit = repo.create_commit(message, new_tree.sha, [base_commit.sha])
    with talking_to_github(f"creating the branch {branch}"):
        ref = repo.create_ref(f"refs/heads/{branch}", commit.sha)
    if ref is None:
        raise BotError(f'"{branch}" is not a name GitHub accepts for a branch')
    try:
        with talking_to_github(f"opening the pull request from {branch}"):
            pull = repo.create_pull(title, base, branch, body)
    except BotError as error:
        try:
            ref.delete()
        except gh_errors.GitHubException as cleanup:
            raise BotError(
                f"{error}; and the branch {branch} could not be deleted again "
                f"({describe(cleanup, 'deleting it')}): delete it by hand"
            ) from cleanup
        raise BotError(f"{error}; the branch {branch} was deleted again") from error
    log.info("opened pull request #%d from %s", pull.number, branch)
    return OpenedPullRequest(pull.number, pull.html_url, branch)
