"""One bot comment per issue or pull request, found again by a hidden marker and updated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pipelines.bot.client import talking_to_github

DEFAULT_BOT_LOGIN = "github-actions[bot]"


@dataclass(frozen=True)
class CommentResult:
    action: Literal["created", "updated", "unchanged"]
    url: str


def upsert_comment(
    issue: Any, marker: str, body: str, bot_login: str = DEFAULT_BOT_LOGIN
) -> CommentResult:
    """Create the comment, or update the bot's earlier one carrying marker; never leave two.

    Only comments written by bot_login count, so a contributor who pastes the marker into
    their own comment cannot have it overwritten or deleted.
    """
    if not body.startswith(marker):
        body = f"{marker}\n{body}"
    with talking_to_github(f"reading the comments on #{issue.number}"):
        mine = [
            comment
            for comment in issue.comments()
            if comment.user is not None
            and comment.user.login == bot_login
            and (comment.body or "").startswith(marker)
        ]
    if not mine:
        with talking_to_github(f"commenting on #{issue.number}"):
            created = issue.create_comment(body)
        return CommentResult("created", created.html_url)
    first, *extra = mine
    action: Literal["updated", "unchanged"] = "unchanged"
    if first.body != body:
        with talking_to_github(f"updating comment {first.id} on #{issue.number}"):
            first.edit(body)
        action = "updated"
    for comment in extra:  # left by an earlier run that raced this one
        with talking_to_github(f"deleting the extra comment {comment.id} on #{issue.number}"):
            comment.delete()
    return CommentResult(action, first.html_url)
