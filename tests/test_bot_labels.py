"""Which labels a pull request gets, and `feedback bot labels`, against a local fake of GitHub."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipelines.bot.labels import ChangedFile, decide_labels
from pipelines.cli import main
from pipelines.package import read_source_package
from pipelines.problems import Problem, Report
from tests.conftest import DATA
from tests.fake_github import FakeGitHub

REPO = "/repos/feedback-commons/wrenford"
PACKAGE = read_source_package(DATA)
WARNING = Problem("data/stories/2026/x.yaml", 3, "story", "titled-name", "", "", "", "warning")
ERROR = Problem("data/stories/2026/x.yaml", 3, "title", "too-short", "", "", "")


@pytest.mark.parametrize(
    ("files", "problems", "expected"),
    [
        ([("data/stories/2026/2026-11-22-abcdef.yaml", "added")], [], {"story"}),
        ([("data/stories/2026/2026-11-22-abcdef.yaml", "added")], [ERROR], {"story", "invalid"}),
        (
            [("data/stories/2026/2026-11-22-abcdef.yaml", "added")],
            [WARNING],
            {"story", "needs-moderation"},
        ),
        (
            [("data/stories/2026/2026-11-18-uizcme.yaml", "modified")],
            [],
            {"story", "needs-moderation"},
        ),
        ([("data/responses/2026/2026-11-22-r3sp0n.yaml", "added")], [], {"response"}),
        (
            [("data/responses/2026/2026-11-22-r3sp0n.yaml", "removed")],
            [],
            {"response", "needs-moderation"},
        ),
        ([("data/moderation.csv", "modified")], [], {"needs-moderation"}),
        ([("data/responders.csv", "modified")], [], {"needs-moderation"}),
        ([("pipelines/cli.py", "modified"), ("README.md", "modified")], [], set()),
    ],
)
def test_labels_follow_the_files_and_the_report(
    files: list[tuple[str, str]], problems: list[Problem], expected: set[str]
) -> None:
    changed = [ChangedFile(path, status) for path, status in files]
    assert decide_labels(changed, Report.of(problems, 1), [], PACKAGE, "data") == expected


def test_a_story_renamed_away_still_counts_as_a_change_to_stories() -> None:
    changed = [ChangedFile("attic/old.yaml", "renamed", "data/stories/2025/2025-01-15-m5a68v.yaml")]
    assert decide_labels(changed, Report.of([], 1), [], PACKAGE, "data") == {
        "story",
        "needs-moderation",
    }


def run(github: FakeGitHub) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        ["bot", "labels", "--data", str(DATA), "--repo", "feedback-commons/wrenford"],
        env={"GITHUB_TOKEN": "t", "GITHUB_API_URL": github.url},
    )
    return result.exit_code, result.stdout, result.stderr


def test_labels_command_creates_only_the_missing_labels(github: FakeGitHub) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/labels", "labels-repository.json")
    for _ in range(3):
        github.reply("POST", f"{REPO}/labels", "label-created.json", 201)

    assert run(github) == (0, "created needs-moderation, response, story\n", "")
    assert github.calls() == [
        ("GET", REPO, None),
        ("GET", f"{REPO}/labels", None),
        (
            "POST",
            f"{REPO}/labels",
            {
                "name": "needs-moderation",
                "color": "fbca04",
                "description": "A moderator needs to look closely",
            },
        ),
        (
            "POST",
            f"{REPO}/labels",
            {
                "name": "response",
                "color": "1d76db",
                "description": "Adds or changes a provider's response",
            },
        ),
        (
            "POST",
            f"{REPO}/labels",
            {"name": "story", "color": "0e8a16", "description": "Adds or changes a story"},
        ),
    ]


def test_labels_command_reports_a_refusal_in_one_line(github: FakeGitHub) -> None:
    github.reply("GET", REPO, "repository.json")
    github.reply("GET", f"{REPO}/labels", "labels-repository.json")
    github.reply("POST", f"{REPO}/labels", "error-label-exists.json", 422)
    assert run(github) == (
        2,
        "",
        "Error: GitHub refused the request (422 while creating the label needs-moderation: "
        "Validation Failed: already_exists)\n",
    )
