"""A github3.py session, and GitHub's failures turned into one line that says what to do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import github3
from github3 import exceptions as gh_errors

DEFAULT_API_URL = "https://api.github.com"


class BotError(Exception):
    """GitHub refused or could not be reached, or its answer cannot be used: one line, no traceback."""


def connect(token: str, api_url: str = DEFAULT_API_URL) -> github3.GitHub:
    """A session authenticated by token against the REST API at api_url (GITHUB_API_URL in Actions)."""
    if not token:
        raise BotError(
            "no GitHub token: set GITHUB_TOKEN (in Actions: env GITHUB_TOKEN: ${{ github.token }})"
        )
    session = github3.GitHub(token=token)
    session.session.base_url = api_url.rstrip("/")
    return session


def split_repository(full_name: str) -> tuple[str, str]:
    """owner/name as its two parts; anything else is an operator error."""
    owner, _, name = full_name.partition("/")
    if not owner or not name or "/" in name:
        raise BotError(f'"{full_name}" is not a repository: write it as owner/name')
    return owner, name


def _reset_time(headers: Any) -> str | None:
    reset = headers.get("X-RateLimit-Reset") if headers is not None else None
    if reset is None or not str(reset).isdigit():
        return None
    moment = dt.datetime.fromtimestamp(int(reset), tz=dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def describe(error: gh_errors.GitHubException, action: str) -> str:
    """One line for an error github3.py raised while doing action ("reading pull request #4")."""
    if isinstance(error, gh_errors.TransportError):
        reason = " ".join(str(error.exception).split())[:200]
        return f"could not reach GitHub while {action} ({reason}): check the network and run again"
    if not isinstance(error, gh_errors.GitHubError):
        return f"GitHub failed while {action}: {' '.join(str(error).split())[:200]}"
    response = error.response
    status = error.code
    headers = response.headers if response is not None else None
    message = " ".join(str(error.msg or "").split())[:200]
    details = "; ".join(
        " ".join(str(item.get("message") or item.get("code") or "").split())
        for item in error.errors
        if isinstance(item, dict)
    )[:300]
    rate_limited = status == 429 or (
        status == 403
        and (
            (headers is not None and headers.get("X-RateLimit-Remaining") == "0")
            or "rate limit" in message.lower()
        )
    )
    if rate_limited:
        reset = _reset_time(headers)
        retry = headers.get("Retry-After") if headers is not None else None
        when = (
            f"it resets at {reset}"
            if reset
            else (f"retry after {retry} seconds" if retry else "wait an hour")
        )
        return f"GitHub's rate limit is used up (while {action}): {when}, then run again"
    if status == 401:
        return f"GitHub did not accept the token (401 while {action}): check GITHUB_TOKEN"
    if status == 403:
        return (
            f"GitHub refused (403 while {action}: {message}): the token lacks a permission "
            "this needs; see docs/github.md"
        )
    if status == 404:
        return (
            f"not found on GitHub (404 while {action}): check the repository and number, "
            "and that the token can see the repository"
        )
    if status == 422:
        return f"GitHub refused the request (422 while {action}: {message}{': ' + details if details else ''})"
    if status is None:
        return f"GitHub's answer could not be used while {action}: {message}"
    return f"GitHub answered {status} while {action}: {message}"


@contextmanager
def talking_to_github(action: str) -> Iterator[None]:
    """Run GitHub calls; any failure becomes a BotError naming the action."""
    try:
        yield
    except gh_errors.GitHubException as error:
        raise BotError(describe(error, action)) from error
