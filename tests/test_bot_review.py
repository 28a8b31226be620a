"""`feedback bot comment` against a local fake of GitHub: the exact requests, and every failure."""

from __future__ import annotations

import base64
import functools
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.problems import Problem, Report, render_json, render_markdown
from tests.conftest import DATA
from tests.fake_github import FakeGitHub

REPO = "/repos/feedback-commons/wrenford"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
RESPONSE = "data/responses/2026/2026-11-22-r3sp0n.yaml"
ERROR = Problem(
    "data/stories/2026/2026-11-18-uizcme.yaml",
    9,
    "ratings.overall",
    "rating-out-of-range",
    "a whole number from 1 to 5",
    '"6"',
    "change the overall rating to a number from 1 to 5.",
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The demo instance as the comment workflow sees it: the base branch's checkout."""
    return Path(shutil.copytree(DATA, tmp_path / "data"))


def artifact(folder: Path, report: Report, number: int = 7, head: str = HEAD) -> Path:
    folder.mkdir()
    (folder / "report.json").write_text(render_json(report), encoding="utf-8")
    (folder / "pull-request.json").write_text(
        json.dumps({"number": number, "head_sha": head}), encoding="utf-8"
    )
    return folder


def run(github: FakeGitHub, data: Path, folder: Path, head: str = HEAD) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["bot", "comment", "--artifact", str(folder), "--head-sha", head, "--data", str(data)],
        env={
            "GITHUB_TOKEN": "test-token",
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": "feedback-commons/wrenford",
        },
    )
    return result.exit_code, result.output


def reading(github: FakeGitHub, number: int = 7, files: str = "pull-files-response.json") -> None:
    github.reply("GET", REPO, "repository.json")
    pull = "pull-response.json" if number == 7 else "pull-response-stranger.json"
    github.reply("GET", f"{REPO}/pulls/{number}", pull)
    github.reply("GET", f"{REPO}/pulls/{number}/files", files)
    github.reply("GET", f"{REPO}/contents/{RESPONSE}", "contents-response.json")
    github.reply("GET", f"{REPO}/issues/{number}", f"issue-pull-{number}.json")


READ_CALLS = [
    ("GET", REPO, None),
    ("GET", f"{REPO}/pulls/7", None),
    ("GET", f"{REPO}/pulls/7/files", None),
    ("GET", f"{REPO}/contents/{RESPONSE}", None),
    ("GET", f"{REPO}/issues/7", None),
    ("GET", f"{REPO}/issues/7/comments", None),
]


def test_first_report_creates_the_comment_and_sets_labels(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    report = Report.of([], 3)
    reading(github)
    github.reply("GET", f"{REPO}/issues/7/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/7/comments", "comment-created.json", 201)
    github.reply("POST", f"{REPO}/issues/7/labels", "labels-after-add.json")
    github.reply("DELETE", f"{REPO}/issues/7/labels/invalid", "labels-after-remove.json")

    code, output = run(github, data, artifact(tmp_path / "a", report))

    assert (code, output) == (
        0,
        "#7: comment created (https://github.com/feedback-commons/wrenford/pull/7#issuecomment-1004); "
        "labels +response -invalid\n",
    )
    assert github.calls() == [
        *READ_CALLS,
        ("POST", f"{REPO}/issues/7/comments", {"body": render_markdown(report)}),
        ("POST", f"{REPO}/issues/7/labels", ["response"]),
        ("DELETE", f"{REPO}/issues/7/labels/invalid", None),
    ]
    assert [r.query for r in github.requests][3] == f"ref={HEAD}"


def test_later_report_updates_the_bots_comment_and_removes_a_duplicate(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    report = Report.of([ERROR], 3)
    reading(github)
    github.reply("GET", f"{REPO}/issues/7/comments", "comments-existing.json")
    github.reply("PATCH", f"{REPO}/issues/comments/1002", "comment-updated.json")
    github.reply("DELETE", f"{REPO}/issues/comments/1003", None, 204)
    github.reply("POST", f"{REPO}/issues/7/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", report))

    assert code == 0, output
    assert output.endswith("labels +response\n")
    assert github.calls() == [
        *READ_CALLS,
        ("PATCH", f"{REPO}/issues/comments/1002", {"body": render_markdown(report)}),
        ("DELETE", f"{REPO}/issues/comments/1003", None),
        ("POST", f"{REPO}/issues/7/labels", ["response"]),
    ]


def test_response_from_a_login_not_listed_for_the_provider_is_refused(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    reading(github, 8)
    github.reply("GET", f"{REPO}/issues/8/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/8/comments", "comment-created.json", 201)
    github.reply("POST", f"{REPO}/issues/8/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3), number=8))

    assert code == 0, output
    assert output.endswith("labels +invalid +response; 1 response(s) refused\n")
    posted = github.calls()[6][2]["body"]
    assert "response-author-not-responder" in posted
    assert "someone-else" in posted  # the author GitHub reports, not the file's responder line
    assert github.calls()[7] == ("POST", f"{REPO}/issues/8/labels", ["invalid", "response"])


def test_responders_csv_in_the_pull_request_cannot_authorise_its_author(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    # The branch adds its author to responders.csv; the check reads the base branch's checkout.
    reading(github, 8, files="pull-files-response-and-responders.json")
    github.reply("GET", f"{REPO}/issues/8/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/8/comments", "comment-created.json", 201)
    github.reply("POST", f"{REPO}/issues/8/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3), number=8))

    assert code == 0, output
    assert github.calls()[-1] == (
        "POST",
        f"{REPO}/issues/8/labels",
        ["invalid", "needs-moderation", "response"],
    )


def test_a_listed_responder_must_sign_with_their_own_login(data: Path) -> None:
    from pipelines.bot.authorise import refused_responses, responders_by_provider
    from pipelines.bot.labels import ChangedFile
    from pipelines.package import read_source_package

    text = (DATA.parent / "tests/data/github/contents-response.json").read_text(encoding="utf-8")
    raw = base64.b64decode(json.loads(text)["content"])
    responders = responders_by_provider(data, read_source_package(data))
    files = [ChangedFile(RESPONSE, "added")]
    check = functools.partial(
        refused_responses,
        files,
        read_file=lambda path: raw,
        responses_folder="data/responses",
    )
    assert check("Wrenford-General-PALS", responders) == []
    assert [(p.line, p.field, p.got) for p in check("rowan-midwives", responders)] == [
        (4, "responder", '"wrenford-general-pals"')
    ]
    assert [(p.line, p.field, p.got) for p in check("someone-else", responders)] == [
        (4, "responder", 'a pull request by "someone-else"')
    ]


def test_edits_to_published_stories_and_the_log_need_moderation(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/pulls/7", "pull-response.json")
    github.reply("GET", f"{REPO}/pulls/7/files", "pull-files-story-edit.json")
    github.reply("GET", f"{REPO}/issues/7", "issue-pull-7.json")
    github.reply("GET", f"{REPO}/issues/7/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/7/comments", "comment-created.json", 201)
    github.reply("POST", f"{REPO}/issues/7/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", Report.of([ERROR], 3)))

    assert code == 0, output
    assert github.calls()[-1] == (
        "POST",
        f"{REPO}/issues/7/labels",
        ["needs-moderation", "story"],
    )


def test_a_newer_push_means_nothing_is_posted(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    older = "1111111111111111111111111111111111111111"
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/pulls/7", "pull-response.json")
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3), head=older), older)
    assert (code, output) == (
        0,
        "#7: nothing posted: the pull request's head is now 6dcb09b5b578, not 111111111111; "
        "the run for the newer commit will comment\n",
    )
    assert [c[0] for c in github.calls()] == ["GET", "GET"]


def test_an_artifact_that_does_not_match_its_run_is_refused(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3)), "2" * 40)
    assert (code, output) == (
        2,
        "Error: the artifact names commit 6dcb09b5b578 but the validate run checked "
        "222222222222: not commenting on an artifact that does not match its run\n",
    )
    assert github.calls() == []


@pytest.mark.parametrize(
    ("pull_request", "report", "message"),
    [
        ({"number": "7", "head_sha": HEAD}, None, "has no pull request number"),
        ({"number": 7, "head_sha": "main"}, None, "has no head commit SHA"),
        (
            {"number": 7, "head_sha": HEAD},
            {"problems": [{"path": "x"}], "summary": {"files_checked": 1}},
            "problem 1 does not have the fields of a problem",
        ),
        (
            {"number": 7, "head_sha": HEAD},
            {"problems": [], "summary": {"files_checked": "1"}},
            "has no count of files checked",
        ),
    ],
)
def test_a_malformed_artifact_is_one_line_and_no_requests(
    github: FakeGitHub,
    data: Path,
    tmp_path: Path,
    pull_request: dict[str, object],
    report: dict[str, object] | None,
    message: str,
) -> None:
    folder = artifact(tmp_path / "a", Report.of([], 3))
    (folder / "pull-request.json").write_text(json.dumps(pull_request), encoding="utf-8")
    if report is not None:
        (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    code, output = run(github, data, folder)
    assert code == 2
    assert message in output
    assert output.count("\n") == 1
    assert github.calls() == []


def test_rate_limit_names_the_reset_time(github: FakeGitHub, data: Path, tmp_path: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply(
        "GET",
        f"{REPO}/pulls/7",
        "error-rate-limit.json",
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
    )
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3)))
    assert (code, output) == (
        2,
        "Error: GitHub's rate limit is used up (while reading pull request #7 of "
        "feedback-commons/wrenford): it resets at 2026-11-18 11:06:40 UTC, then run again\n",
    )


def test_secondary_rate_limit_429_names_the_wait(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    github.reply("GET", REPO, "error-rate-limit.json", 429, {"Retry-After": "60"})
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3)))
    assert (code, output) == (
        2,
        "Error: GitHub's rate limit is used up (while reading pull request #7 of "
        "feedback-commons/wrenford): retry after 60 seconds, then run again\n",
    )


def test_missing_pull_request_is_one_line(github: FakeGitHub, data: Path, tmp_path: Path) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/pulls/7", "error-not-found.json", 404)
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3)))
    assert (code, output) == (
        2,
        "Error: not found on GitHub (404 while reading pull request #7 of "
        "feedback-commons/wrenford): check the repository and number, and that the token "
        "can see the repository\n",
    )


def test_failed_comment_changes_no_labels(github: FakeGitHub, data: Path, tmp_path: Path) -> None:
    reading(github)
    github.reply("GET", f"{REPO}/issues/7/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/7/comments", "error-pull-exists.json", 422)
    code, output = run(github, data, artifact(tmp_path / "a", Report.of([], 3)))
    assert (code, output) == (
        2,
        "Error: GitHub refused the request (422 while commenting on #7: Validation Failed: "
        "A pull request already exists for feedback-commons:story/issue-12.)\n",
    )
    assert [c[0] for c in github.calls()][-1] == "POST"
    assert not any("labels" in c[1] for c in github.calls())


def test_network_failure_is_one_line(data: Path, tmp_path: Path) -> None:
    with FakeGitHub() as closed:
        url = closed.url
    result = CliRunner().invoke(
        main,
        [
            "bot",
            "comment",
            "--artifact",
            str(artifact(tmp_path / "a", Report.of([], 3))),
            "--head-sha",
            HEAD,
            "--data",
            str(data),
            "--repo",
            "feedback-commons/wrenford",
        ],
        env={"GITHUB_TOKEN": "t", "GITHUB_API_URL": url, "NO_PROXY": "127.0.0.1"},
    )
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: could not reach GitHub while reading pull request #7 of feedback-commons/wrenford ("
    )
    assert result.output.endswith("): check the network and run again\n")
    assert result.output.count("\n") == 1


def test_no_token_is_one_line(data: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            *("bot", "comment", "--artifact", str(artifact(tmp_path / "a", Report.of([], 3)))),
            *("--head-sha", HEAD, "--data", str(data)),
        ],
        env={"GITHUB_TOKEN": ""},
    )
    assert (result.exit_code, result.output) == (
        2,
        "Error: no GitHub token: set GITHUB_TOKEN (in Actions: env GITHUB_TOKEN: ${{ github.token }})\n",
    )


def test_a_refusal_validate_already_reported_is_shown_once(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    told = Problem(
        RESPONSE,
        3,
        "provider",
        "response-author-not-responder",
        "a response from a login listed for this provider",
        '"someone-else"',
        "ask a maintainer to add your login.",
    )
    reading(github, 8)
    github.reply("GET", f"{REPO}/issues/8/comments", "comments-empty.json")
    github.reply("POST", f"{REPO}/issues/8/comments", "comment-created.json", 201)
    github.reply("POST", f"{REPO}/issues/8/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", Report.of([told], 3), number=8))

    assert code == 0, output
    assert github.calls()[6][2] == {"body": render_markdown(Report.of([told], 3))}
    assert github.calls()[7][2] == ["invalid", "response"]


def test_the_earlier_comment_is_found_on_a_later_page(
    github: FakeGitHub, data: Path, tmp_path: Path
) -> None:
    report = Report.of([ERROR], 3)
    reading(github)
    following = f'<{github.url}{REPO}/issues/7/comments?per_page=100&page=2>; rel="next"'
    github.reply(
        "GET", f"{REPO}/issues/7/comments", "comments-page-1.json", headers={"Link": following}
    )
    github.reply("GET", f"{REPO}/issues/7/comments", "comments-existing.json")
    github.reply("PATCH", f"{REPO}/issues/comments/1002", "comment-updated.json")
    github.reply("DELETE", f"{REPO}/issues/comments/1003", None, 204)
    github.reply("POST", f"{REPO}/issues/7/labels", "labels-after-add.json")

    code, output = run(github, data, artifact(tmp_path / "a", report))

    assert code == 0, output
    assert [(r.method, r.path, r.query) for r in github.requests][5:8] == [
        ("GET", f"{REPO}/issues/7/comments", "per_page=100"),
        ("GET", f"{REPO}/issues/7/comments", "per_page=100&page=2"),
        ("PATCH", f"{REPO}/issues/comments/1002", ""),
    ]
    assert not any(c[0] == "POST" and c[1].endswith("/comments") for c in github.calls())


def test_the_artifact_contract_matches_feedback_validate(sample: Path, tmp_path: Path) -> None:
    from pipelines.bot.artifact import read_artifact

    story = sample / "stories/2026/2026-01-05-aaaa01.yaml"
    story.write_text(story.read_text(encoding="utf-8").replace("overall: 5", "overall: 6"))
    result = CliRunner().invoke(main, ["validate", "--data", str(sample), "--format", "json"])
    folder = tmp_path / "artifact"
    folder.mkdir()
    (folder / "report.json").write_text(result.stdout, encoding="utf-8")
    (folder / "pull-request.json").write_text(
        json.dumps({"number": 7, "head_sha": HEAD}), encoding="utf-8"
    )
    parsed = read_artifact(folder)
    assert result.exit_code == 1
    assert (parsed.number, parsed.head_sha) == (7, HEAD)
    assert render_json(parsed.report) == result.stdout
