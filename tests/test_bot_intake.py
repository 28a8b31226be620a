"""`feedback bot issue-to-pr` and `feedback bot promote` against a local fake of GitHub."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.conftest import DATA
from tests.fake_github import PAYLOADS, FakeGitHub

REPO = "/repos/feedback-commons/wrenford"
INTAKE = "/repos/feedback-commons/wrenford-intake"
BASE = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
NEW = "7d1b31e74ee336d15cbd21741bc88a537ed063a0"
STORY = "data/stories/2026/2026-11-22-le8xo5.yaml"
STORY_TEXT = """\
id: 2026-11-22-le8xo5
provider: wrenford-general-maternity
title: Calm midwives on a busy night
experienced: 2026-10
submitted: 2026-11-22
author:
  pseudonym: River walker
  role: patient
ratings:
  overall: 5
  communication: 4
tags:
  good:
  - staff-attitude
  - explanations
status: published
licence: CC-BY-4.0
consent: true
submitted_via: issue-form
story: |
  The ward was full but the midwives stayed calm and explained every step.

  ### Title

  This line is part of the story, not a new answer.
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA, tmp_path / "data"))


def run(github: FakeGitHub, data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        ["bot", *args, "--data", str(data)],
        env={
            "GITHUB_TOKEN": "test-token",
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "feedback-commons/wrenford",
        },
    )
    return result.exit_code, result.stdout, result.stderr


def git_sequence(github: FakeGitHub, branch: str) -> None:
    github.reply("GET", f"{REPO}/git/ref/heads/{branch}", "error-not-found.json", 404)
    github.reply("GET", f"{REPO}/git/ref/heads/main", "ref-main.json")
    github.reply("GET", f"{REPO}/git/commits/{BASE}", "git-commit-main.json")
    github.reply("POST", f"{REPO}/git/blobs", "blob-created.json", 201)
    github.reply("POST", f"{REPO}/git/trees", "tree-created.json", 201)
    github.reply("POST", f"{REPO}/git/commits", "commit-created.json", 201)
    github.reply("POST", f"{REPO}/git/refs", "ref-created.json", 201)


def git_calls(branch: str, path: str, text: str, message: str) -> list[tuple[str, str, object]]:
    return [
        ("GET", f"{REPO}/git/ref/heads/{branch}", None),
        ("GET", f"{REPO}/git/ref/heads/main", None),
        ("GET", f"{REPO}/git/commits/{BASE}", None),
        ("POST", f"{REPO}/git/blobs", {"content": text, "encoding": "utf-8"}),
        (
            "POST",
            f"{REPO}/git/trees",
            {
                "tree": [
                    {
                        "path": path,
                        "mode": "100644",
                        "type": "blob",
                        "sha": "3a0f86fb8db8eea7ccbb9a95f325ddbedfb25e15",
                    }
                ],
                "base_tree": "b4eecafa9be2f2006ce1b709d6857b07069b4608",
            },
        ),
        (
            "POST",
            f"{REPO}/git/commits",
            {
                "message": message,
                "tree": "cd8274d15fa3ae2ab983129fb037999f264ba9a7",
                "parents": [BASE],
            },
        ),
        ("POST", f"{REPO}/git/refs", {"ref": f"refs/heads/{branch}", "sha": NEW}),
    ]


ISSUE_MESSAGE = (
    "Add story 2026-11-22-le8xo5 from issue #12\n\nWritten with the story issue form; "
    "the contributor's GitHub login is not part of the story."
)
ISSUE_PULL = {
    "title": "Story 2026-11-22-le8xo5 from #12",
    "body": "From #12: a story written with the issue form, opened as a pull request by the bot "
    "for a moderator to review.\n\nCloses #12\n",
    "base": "main",
    "head": "story/issue-12",
}


def test_issue_becomes_a_pull_request_that_credits_it(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    git_sequence(github, "story/issue-12")
    github.reply("POST", f"{REPO}/pulls", "pull-created.json", 201)
    github.reply("GET", f"{REPO}/issues/12/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/12/comments", "comment-intake.json", 201)

    code, out, _ = run(github, data, "issue-to-pr", "--issue", "12")

    assert (code, out) == (
        0,
        "#12: opened pull request #15 (https://github.com/feedback-commons/wrenford/pull/15)\n",
    )
    assert github.calls() == [
        ("GET", REPO, None),
        ("GET", f"{REPO}/issues/12", None),
        *git_calls("story/issue-12", STORY, STORY_TEXT, ISSUE_MESSAGE),
        ("POST", f"{REPO}/pulls", ISSUE_PULL),
        ("GET", f"{REPO}/issues/12/comments", None),
        (
            "POST",
            f"{REPO}/issues/12/comments",
            {
                "body": "<!-- feedback-commons-intake -->\n## Thank you: your story is now pull "
                "request #15\n\nA moderator reviews it there before it is published. Your GitHub "
                "login is not part of the story. To change the story now, comment on #15.\n"
            },
        ),
    ]
    assert not (data / "stories/2026/2026-11-22-le8xo5.yaml").exists()  # the checkout is untouched


def test_the_contributors_login_is_never_in_the_story(github: FakeGitHub, data: Path) -> None:
    issue = github.payload("issue-story.json")
    assert issue["user"]["login"] == "river-walker"
    assert "river-walker" not in STORY_TEXT
    assert "river-walker" not in json.dumps(ISSUE_PULL) + ISSUE_MESSAGE


def test_story_with_problems_gets_a_comment_and_no_branch(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/13", "issue-story-bad.json")
    github.reply("GET", f"{REPO}/git/ref/heads/story/issue-13", "error-not-found.json", 404)
    github.reply("GET", f"{REPO}/issues/13/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/13/comments", "comment-intake.json", 201)

    code, out, _ = run(github, data, "issue-to-pr", "--issue", "13")

    assert (code, out) == (1, "#13: 2 problem(s) to fix; commented on the issue (created)\n")
    assert [c[:2] for c in github.calls()] == [
        ("GET", REPO),
        ("GET", f"{REPO}/issues/13"),
        ("GET", f"{REPO}/git/ref/heads/story/issue-13"),
        ("GET", f"{REPO}/issues/13/comments"),
        ("POST", f"{REPO}/issues/13/comments"),
    ]
    body = github.calls()[-1][2]["body"]
    assert body.startswith(
        "<!-- feedback-commons-intake -->\n## Thank you: a few things to fix first"
    )
    assert [line.split("**")[1] for line in body.splitlines() if line.startswith("- **")] == [
        "Pseudonym",
        "Ratings: Overall",
    ]
    assert not (data / "stories/2026/2026-11-22-uxd4cu.yaml").exists()


def test_an_issue_already_opened_as_a_pull_request_is_left_alone(
    github: FakeGitHub, data: Path
) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    github.reply("GET", f"{REPO}/git/ref/heads/story/issue-12", "ref-created.json")
    code, out, _ = run(github, data, "issue-to-pr", "--issue", "12")
    assert (code, out) == (
        0,
        "#12: the branch story/issue-12 exists already: the story was opened before\n",
    )
    assert [c[0] for c in github.calls()] == ["GET", "GET", "GET"]


def test_an_issue_not_written_with_the_form_is_refused(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/14", "issue-not-a-story.json")
    code, _, err = run(github, data, "issue-to-pr", "--issue", "14")
    assert (code, err) == (
        2,
        "Error: issue #14 has no story label: only issues written with the story form are "
        "turned into pull requests\n",
    )


def test_failed_pull_request_deletes_the_branch_again(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    git_sequence(github, "story/issue-12")
    github.reply("POST", f"{REPO}/pulls", "error-pull-exists.json", 422)
    github.reply("DELETE", f"{REPO}/git/refs/heads/story/issue-12", None, 204)

    code, out, err = run(github, data, "issue-to-pr", "--issue", "12")

    assert (code, out, err.splitlines()[-1]) == (
        2,
        "",
        "Error: GitHub refused the request (422 while opening the pull request from "
        "story/issue-12: Validation Failed: A pull request already exists for "
        "feedback-commons:story/issue-12.); the branch story/issue-12 was deleted again",
    )
    assert github.calls()[-2:] == [
        ("POST", f"{REPO}/pulls", ISSUE_PULL),
        ("DELETE", f"{REPO}/git/refs/heads/story/issue-12", None),
    ]


def test_a_branch_that_cannot_be_deleted_is_named(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    git_sequence(github, "story/issue-12")
    github.reply("POST", f"{REPO}/pulls", "error-pull-exists.json", 422)
    github.reply(
        "DELETE",
        f"{REPO}/git/refs/heads/story/issue-12",
        "error-rate-limit.json",
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
    )
    code, _, err = run(github, data, "issue-to-pr", "--issue", "12")
    assert code == 2
    assert err.splitlines()[-1].endswith(
        "; and the branch story/issue-12 could not be deleted again (GitHub's rate limit is "
        "used up (while deleting it): it resets at 2026-11-18 11:06:40 UTC, then run again): "
        "delete it by hand"
    )


def test_rate_limit_before_the_branch_leaves_nothing(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    github.reply("GET", f"{REPO}/git/ref/heads/story/issue-12", "error-not-found.json", 404)
    github.reply("GET", f"{REPO}/git/ref/heads/main", "ref-main.json")
    github.reply("GET", f"{REPO}/git/commits/{BASE}", "git-commit-main.json")
    github.reply(
        "POST",
        f"{REPO}/git/blobs",
        "error-rate-limit.json",
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
    )
    code, _, err = run(github, data, "issue-to-pr", "--issue", "12")
    assert (code, err.splitlines()[-1]) == (
        2,
        f"Error: GitHub's rate limit is used up (while uploading {STORY}): it resets at "
        "2026-11-18 11:06:40 UTC, then run again",
    )
    assert github.calls()[-1][:2] == ("POST", f"{REPO}/git/blobs")


def test_branch_created_meanwhile_stops_before_the_pull_request(
    github: FakeGitHub, data: Path
) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/12", "issue-story.json")
    git_sequence(github, "story/issue-12")
    github.routes[("POST", f"{REPO}/git/refs")].clear()
    github.reply("POST", f"{REPO}/git/refs", "error-ref-exists.json", 422)
    code, _, err = run(github, data, "issue-to-pr", "--issue", "12")
    assert (code, err.splitlines()[-1]) == (
        2,
        "Error: GitHub refused the request (422 while creating the branch story/issue-12: "
        "Reference already exists)",
    )
    assert not any(c[1].endswith("/pulls") for c in github.calls())


PROMOTED = "data/stories/2026/2026-11-20-pr1vat.yaml"


def intake_text() -> str:
    payload = json.loads((PAYLOADS / "contents-intake-story.json").read_text(encoding="utf-8"))
    return base64.b64decode(payload["content"]).decode("utf-8")


def test_promote_copies_only_the_moderated_file(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", INTAKE, "repository-intake.json")
    github.reply("GET", f"{INTAKE}/contents/{PROMOTED}", "contents-intake-story.json")
    github.reply("GET", REPO, "repository.json")
    git_sequence(github, "story/2026-11-20-pr1vat")
    github.reply("POST", f"{REPO}/pulls", "pull-created.json", 201)

    code, out, _ = run(github, data, "promote", "2026-11-20-pr1vat")

    assert (code, out) == (
        0,
        "2026-11-20-pr1vat: opened pull request #15 "
        "(https://github.com/feedback-commons/wrenford/pull/15)\n",
    )
    message = (
        "Add story 2026-11-20-pr1vat from the private intake\n\nModerated in the private intake "
        "repository; only the moderated file is in this commit."
    )
    assert github.calls() == [
        ("GET", INTAKE, None),
        ("GET", f"{INTAKE}/contents/{PROMOTED}", None),
        ("GET", REPO, None),
        *git_calls("story/2026-11-20-pr1vat", PROMOTED, intake_text(), message),
        (
            "POST",
            f"{REPO}/pulls",
            {
                "title": "Story 2026-11-20-pr1vat (moderated in the private intake)",
                "body": "A story sent privately and moderated in the private intake repository. "
                "Only the moderated file is in this pull request.\n\nPromoted with "
                "`feedback bot promote 2026-11-20-pr1vat`.\n",
                "base": "main",
                "head": "story/2026-11-20-pr1vat",
            },
        ),
    ]
    assert github.requests[1].query == "ref=main"  # the intake's moderated default branch


def test_promote_of_a_missing_story_is_one_line(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", INTAKE, "repository-intake.json")
    github.reply("GET", f"{INTAKE}/contents/{PROMOTED}", "error-not-found.json", 404)
    code, _, err = run(github, data, "promote", "2026-11-20-pr1vat")
    assert (code, err.splitlines()[-1]) == (
        2,
        f"Error: not found on GitHub (404 while reading {PROMOTED} from the intake repository "
        "feedback-commons/wrenford-intake): check the repository and number, and that the "
        "token can see the repository",
    )


def test_promote_refuses_a_story_with_errors(github: FakeGitHub, data: Path) -> None:
    (data / "providers.csv").write_text(
        "\n".join(
            line
            for line in (data / "providers.csv").read_text(encoding="utf-8").splitlines()
            if not line.startswith("old-mill-surgery,")
        )
        + "\n",
        encoding="utf-8",
    )
    github.reply("GET", INTAKE, "repository-intake.json")
    github.reply("GET", f"{INTAKE}/contents/{PROMOTED}", "contents-intake-story.json")
    github.reply("GET", REPO, "repository.json")
    github.reply(
        "GET", f"{REPO}/git/ref/heads/story/2026-11-20-pr1vat", "error-not-found.json", 404
    )
    code, out, err = run(github, data, "promote", "2026-11-20-pr1vat")
    assert (code, out) == (
        1,
        "2026-11-20-pr1vat: 1 problem(s): fix the story in feedback-commons/wrenford-intake first\n",
    )
    assert "[unknown-provider]" in err
    assert [c[0] for c in github.calls()] == ["GET", "GET", "GET", "GET"]


@pytest.mark.parametrize("story_id", ["../../../etc/passwd", "2026-11-20-../../x", "not-an-id"])
def test_promote_accepts_only_story_ids(github: FakeGitHub, data: Path, story_id: str) -> None:
    code, _, err = run(github, data, "promote", story_id)
    assert (code, err) == (2, f'Error: "{story_id}" is not a story id such as 2026-11-22-k3m9qz\n')
    assert github.calls() == []


def test_promote_of_a_published_story_asks_nothing_of_github(
    github: FakeGitHub, data: Path
) -> None:
    code, out, _ = run(github, data, "promote", "2026-11-18-uizcme")
    assert (code, out) == (
        0,
        "2026-11-18-uizcme: data/stories/2026/2026-11-18-uizcme.yaml is already in the public "
        "repository\n",
    )
    assert github.calls() == []


@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ({}, ("PATCH", f"{REPO}/issues/comments/2001")),
        ({"FEEDBACK_BOT_LOGIN": "wrenford-bot[bot]"}, ("POST", f"{REPO}/issues/13/comments")),
    ],
)
def test_the_bot_login_comes_from_the_environment(
    github: FakeGitHub, data: Path, login: dict[str, str], expected: tuple[str, str]
) -> None:
    # Only the bot's own marked comment is updated; another login's is not the bot's.
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/13", "issue-story-bad.json")
    github.reply("GET", f"{REPO}/git/ref/heads/story/issue-13", "error-not-found.json", 404)
    github.reply("GET", f"{REPO}/issues/13/comments", "comments-intake-existing.json")
    github.reply("POST", f"{REPO}/issues/13/comments", "comment-intake.json", 201)
    github.reply("PATCH", f"{REPO}/issues/comments/2001", "comment-intake.json")
    result = CliRunner().invoke(
        main,
        ["bot", "issue-to-pr", "--issue", "13", "--data", str(data)],
        env={
            "GITHUB_TOKEN": "t",
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "feedback-commons/wrenford",
            "FEEDBACK_BOT_LOGIN": None,
            **login,
        },
    )
    assert result.exit_code == 1
    assert github.calls()[-1][:2] == expected


def test_contributor_text_in_the_issue_comment_is_inert() -> None:
    from pipelines.bot.intake import problems_comment
    from pipelines.bot.issue_form import story_form
    from pipelines.problems import Problem

    hostile = '"<img src=x onerror=alert(1)> @maintainers [win](http://evil.example) `code`"'
    problem = Problem(
        STORY, 3, "title", "too-long", "at most 120 characters", hostile, "shorten it."
    )
    body = problems_comment([problem], story_form(DATA))
    line = body.splitlines()[5]
    assert line.startswith("- **Title**: expected at most 120 characters, got ")
    for raw in ("<img", "@maintainers", "[win]", "(http", "`code`"):
        assert raw not in body


def test_a_story_confirming_a_response_checks_against_files_not_read(data: Path) -> None:
    from pipelines.bot.intake import check_story

    text = (
        intake_text()
        .replace("provider: old-mill-surgery", "provider: wrenford-general-children")
        .replace("status: published", "confirms: [2025-02-12-suyb0a]\nstatus: published")
    )
    relative = "stories/2026/2026-11-20-pr1vat.yaml"
    assert check_story(data, relative, text, dt.date(2026, 11, 20)) == []
    broken = text.replace("2025-02-12-suyb0a", "2025-02-12-zzzzzz")
    assert [p.code for p in check_story(data, relative, broken, dt.date(2026, 11, 20))] == [
        "unknown-response"
    ]
    assert not (data / relative).exists()


def test_a_closed_issue_is_left_alone(github: FakeGitHub, data: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/issues/16", "issue-story-closed.json")
    code, out, _ = run(github, data, "issue-to-pr", "--issue", "16")
    assert (code, out) == (0, "#16: the issue is closed: nothing to do\n")
    assert [c[0] for c in github.calls()] == ["GET", "GET"]
