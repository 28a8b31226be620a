"""GitHub's failures, each as one line that says what to do."""

from __future__ import annotations

import json

import pytest
import requests
from github3 import exceptions as gh_errors

from pipelines.bot.client import BotError, connect, describe, split_repository, talking_to_github


def failure(status: int, body: dict[str, object], **headers: str) -> gh_errors.GitHubError:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers.update(headers)
    return gh_errors.error_for(response)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            failure(401, {"message": "Bad credentials"}),
            "GitHub did not accept the token (401 while reading #4): check GITHUB_TOKEN",
        ),
        (
            failure(403, {"message": "Resource not accessible by integration"}),
            "GitHub refused (403 while reading #4: Resource not accessible by integration): "
            "the token lacks a permission this needs; see docs/github.md",
        ),
        (
            failure(
                403,
                {"message": "You have exceeded a secondary rate limit."},
                **{"Retry-After": "30"},
            ),
            "GitHub's rate limit is used up (while reading #4): retry after 30 seconds, then run again",
        ),
        (
            failure(
                403,
                {"message": "API rate limit exceeded"},
                **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
            ),
            "GitHub's rate limit is used up (while reading #4): it resets at 2026-11-18 "
            "11:06:40 UTC, then run again",
        ),
        (
            failure(429, {"message": "Too many requests"}),
            "GitHub's rate limit is used up (while reading #4): wait an hour, then run again",
        ),
        (
            failure(502, {"message": "Server Error"}),
            "GitHub answered 502 while reading #4: Server Error",
        ),
        (
            failure(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}],
                },
            ),
            "GitHub refused the request (422 while reading #4: Validation Failed: missing_field)",
        ),
        (
            gh_errors.ConnectionError(requests.ConnectionError("Name or service not known")),
            "could not reach GitHub while reading #4 (Name or service not known): check the "
            "network and run again",
        ),
        (
            gh_errors.IncompleteResponse({}, KeyError("body_html")),
            "GitHub's answer could not be used while reading #4: The library was expecting "
            "more data in the response (KeyError('body_html')). Either GitHub modified it's "
            "response body, or your token is not properly scoped to retrieve this information.",
        ),
    ],
)
def test_each_failure_is_one_line(error: gh_errors.GitHubException, line: str) -> None:
    assert describe(error, "reading #4") == line
    with pytest.raises(BotError) as raised, talking_to_github("reading #4"):
        raise error
    assert str(raised.value) == line
    assert "\n" not in line


@pytest.mark.parametrize("name", ["wrenford", "a/b/c", "/wrenford", "owner/"])
def test_a_repository_is_owner_slash_name(name: str) -> None:
    with pytest.raises(BotError, match="write it as owner/name"):
        split_repository(name)


def test_the_api_address_is_taken_as_given() -> None:
    session = connect("t", "https://github.example.org/api/v3/")
    assert session.session.base_url == "https://github.example.org/api/v3"
