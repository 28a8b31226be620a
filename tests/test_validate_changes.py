"""`feedback validate --since REF`: the change rules, on a real temporary git repository."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.validate import ChangeError, validate_since
from tests.conftest import make_instance
from tests.invalid_fixtures import commit_all, git

TODAY = dt.date(2026, 11, 23)
NEW_STORY = """id: 2026-06-01-new001
provider: brook-surgery
title: A new story
experienced: 2026-05
submitted: 2026-06-01
author:
  pseudonym: Newcomer
  role: patient
status: published
licence: CC-BY-4.0
consent: true
story: |
  The nurse took time to explain the results to me.
"""
RESPONSE = """id: 2026-06-02-rsp001
story: 2026-01-10-bbbb02
provider: brook-surgery
responder: brook-manager
date: 2026-06-02
text: |
  Thank you for telling us about the wait.
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding the sample instance in data/, committed on main."""
    root = tmp_path / "repo"
    root.mkdir()
    make_instance(root / "data")
    (root / "README.md").write_text("not data\n")
    commit_all(root)
    monkeypatch.chdir(root)
    return root


def check(author: str | None = None, base: str = "main") -> list[tuple[str, int, str]]:
    validation = validate_since(Path("data"), base, author, today=TODAY)
    return [(p.path, p.line, p.code) for p in validation.report.problems]


def test_adding_a_story_is_allowed(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "pr")
    (repo / "data/stories/2026/2026-06-01-new001.yaml").write_text(NEW_STORY)
    commit_all(repo, "add a story")
    assert check() == []


def test_an_uncommitted_new_story_is_checked_too(repo: Path) -> None:
    (repo / "data/stories/2026/2026-06-01-new001.yaml").write_text(
        NEW_STORY.replace("provider: brook-surgery", "provider: brook-surgey")
    )
    assert check() == [("data/stories/2026/2026-06-01-new001.yaml", 2, "unknown-provider")]


def test_only_changed_files_are_read(repo: Path) -> None:
    # A broken file that did not change is not reported: it is main's problem, not the PR's.
    broken = repo / "data/stories/2026/2026-04-01-ffff06.yaml"
    broken.write_text(broken.read_text().replace("title:", "titel:"))
    commit_all(repo, "break main")
    (repo / "data/stories/2026/2026-06-01-new001.yaml").write_text(NEW_STORY)
    validation = validate_since(Path("data"), "HEAD", None, today=TODAY)
    assert validation.report.problems == ()
    # the new story, instance.yaml and the seven CSV tables (accepted-findings.csv is optional)
    assert validation.report.files_checked == 1 + 1 + 7


def test_changing_a_story_needs_a_log_entry_in_the_same_change(repo: Path) -> None:
    story = repo / "data/stories/2026/2026-01-10-bbbb02.yaml"
    story.write_text(story.read_text().replace("Forty minutes", "Forty-five minutes"))
    assert check() == [("data/stories/2026/2026-01-10-bbbb02.yaml", 1, "story-changed-without-log")]
    log = repo / "data/moderation.csv"
    log.write_text(
        log.read_text()
        + "2026-06-03,2026-01-10-bbbb02,edited,personal-data,sample-moderator,Corrected.\n"
    )
    assert check() == []


def test_deleting_a_story_needs_a_log_entry(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "pr")
    (repo / "data/stories/2026/2026-04-01-ffff06.yaml").unlink()
    commit_all(repo, "delete")
    assert check() == [("data/stories/2026/2026-04-01-ffff06.yaml", 0, "story-deleted-without-log")]


def test_a_response_by_a_listed_responder_is_allowed(repo: Path) -> None:
    (repo / "data/responses/2026/2026-06-02-rsp001.yaml").write_text(RESPONSE)
    assert check(author="brook-manager") == []
    assert check(author="Brook-Manager") == []  # GitHub logins ignore case


def test_a_response_by_anyone_else_is_refused_whatever_the_file_says(repo: Path) -> None:
    (repo / "data/responses/2026/2026-06-02-rsp001.yaml").write_text(RESPONSE)
    assert check(author="hill-pals") == [
        ("data/responses/2026/2026-06-02-rsp001.yaml", 4, "response-author-not-responder")
    ]


def test_a_response_is_checked_against_the_story_it_answers(repo: Path) -> None:
    # The story is read for context (not changed), so the cross-file rule still runs,
    # and problems in the story itself are not reported.
    (repo / "data/responses/2026/2026-06-02-rsp001.yaml").write_text(
        RESPONSE.replace("date: 2026-06-02", "date: 2026-01-01")
    )
    assert check(author="brook-manager") == [
        ("data/responses/2026/2026-06-02-rsp001.yaml", 5, "response-before-story")
    ]


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (lambda text: text.replace("Withdrawn at the author's request.", "Withdrawn."), 2),
        (lambda text: "\n".join(text.splitlines()[:2]) + "\n", 0),
        (
            lambda text: "\n".join([text.splitlines()[0], *reversed(text.splitlines()[1:])]) + "\n",
            2,
        ),
    ],
    ids=["changed", "removed", "reordered"],
)
def test_the_moderation_log_is_append_only(repo: Path, edit: object, line: int) -> None:
    log = repo / "data/moderation.csv"
    log.write_text(edit(log.read_text()))  # type: ignore[operator]
    assert check() == [("data/moderation.csv", line, "moderation-log-rewritten")]


def test_appending_to_the_log_is_allowed(repo: Path) -> None:
    log = repo / "data/moderation.csv"
    log.write_text(
        log.read_text()
        + "2026-06-03,2026-01-10-bbbb02,edited,personal-data,sample-moderator,Corrected.\n"
    )
    assert check() == []


def test_an_unknown_base_is_an_operator_error(repo: Path) -> None:
    with pytest.raises(ChangeError, match="'no-such-branch' is not a revision"):
        check(base="no-such-branch")
    result = CliRunner().invoke(main, ["validate", "--since", "no-such-branch"])
    assert result.exit_code == 2
    assert "is not a revision git knows" in result.stderr


def test_not_a_git_repository_is_an_operator_error(tmp_path: Path) -> None:
    data = make_instance(tmp_path / "data")
    with pytest.raises(ChangeError):
        validate_since(data, "main", None, today=TODAY)


def test_cli_since_and_author(repo: Path) -> None:
    (repo / "data/responses/2026/2026-06-02-rsp001.yaml").write_text(RESPONSE)
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", "--since", "main", "--author", "brook-manager"])
    refused = runner.invoke(main, ["validate", "--since", "main", "--author", "mallory"])
    assert (ok.exit_code, refused.exit_code) == (0, 1)
    assert refused.stdout.startswith(
        "data/responses/2026/2026-06-02-rsp001.yaml:4: error: responder: expected a pull "
        'request by a login listed in responders.csv for "brook-surgery" before this change, '
        "got a pull request "
        'by "mallory" [response-author-not-responder]'
    )


def test_author_without_since_is_a_usage_error(repo: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--author", "octocat"])
    assert result.exit_code == 2
    assert "--author needs --since" in result.stderr


def test_data_folder_at_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_instance(tmp_path / "instance")
    commit_all(data)
    shutil.copy(data / "stories/2026/2026-01-10-bbbb02.yaml", tmp_path / "elsewhere.yaml")
    story = data / "stories/2026/2026-01-10-bbbb02.yaml"
    story.write_text(story.read_text().replace("Forty minutes", "Forty-five minutes"))
    monkeypatch.chdir(tmp_path)
    validation = validate_since(Path("instance"), "HEAD", None, today=TODAY)
    assert [(p.path, p.code) for p in validation.report.problems] == [
        ("instance/stories/2026/2026-01-10-bbbb02.yaml", "story-changed-without-log")
    ]


def test_a_pull_request_cannot_list_its_own_author_as_a_responder(repo: Path) -> None:
    responders = repo / "data/responders.csv"
    responders.write_text(responders.read_text() + "brook-surgery,mallory,Not really staff\n")
    (repo / "data/responses/2026/2026-06-02-rsp001.yaml").write_text(
        RESPONSE.replace("responder: brook-manager", "responder: mallory")
    )
    assert check(author="mallory") == [
        ("data/responses/2026/2026-06-02-rsp001.yaml", 4, "response-author-not-responder")
    ]
    # Once a maintainer's change listing mallory is in the base, the same response passes.
    git(repo, "add", "data/responders.csv")
    git(repo, "commit", "--quiet", "-m", "a maintainer lists mallory")
    assert check(author="mallory", base="HEAD") == []


def test_stories_added_to_the_base_later_are_not_deletions(repo: Path) -> None:
    git(repo, "checkout", "--quiet", "-b", "pr")
    (repo / "data/stories/2026/2026-06-01-new001.yaml").write_text(NEW_STORY)
    commit_all(repo, "a story on the pull request's branch")
    git(repo, "checkout", "--quiet", "main")
    later = NEW_STORY.replace("2026-06-01-new001", "2026-06-05-main01")
    (repo / "data/stories/2026/2026-06-05-main01.yaml").write_text(
        later.replace("submitted: 2026-06-01", "submitted: 2026-06-05")
    )
    log = repo / "data/moderation.csv"
    log.write_text(
        log.read_text() + "2026-06-05,2026-06-05-main01,edited,legal,sample-moderator,\n"
    )
    commit_all(repo, "main moves on")
    git(repo, "checkout", "--quiet", "pr")
    assert check() == []


EARLIER = "Nobody told us the clinic was running late. Forty minutes in a hot waiting room."
SAME = 'the same text as "2026-01-10-bbbb02"'


@pytest.mark.parametrize(
    ("text", "new_id", "code", "got"),
    [
        (EARLIER, "2026-06-01-new001", "duplicate-story", SAME),
        # Earlier by id than the story it copies: still the new file that is reported.
        (EARLIER.upper(), "2025-06-01-new001", "duplicate-story", SAME),
        (
            EARLIER + " Really.",
            "2026-06-01-new001",
            "near-duplicate-story",
            f"nearly {SAME}",
        ),
    ],
    ids=["exact", "exact-earlier-id", "near"],
)
def test_a_new_story_is_checked_for_duplicates_against_every_story_not_read(
    repo: Path, text: str, new_id: str, code: str, got: str, caplog: pytest.LogCaptureFixture
) -> None:
    git(repo, "checkout", "--quiet", "-b", "pr")
    story = NEW_STORY.replace("2026-06-01-new001", new_id).replace(
        "The nurse took time to explain the results to me.", text
    )
    path = f"data/stories/{new_id[:4]}/{new_id}.yaml"
    (repo / path).parent.mkdir(exist_ok=True)
    (repo / path).write_text(story)
    commit_all(repo, "add a copy")
    stories = len(list((repo / "data/stories").rglob("*.yaml"))) - 1
    caplog.set_level(logging.INFO, logger="pipelines.validate.corpus")
    for cached in (0, stories):  # filling the fingerprint cache, then reading from it
        caplog.clear()
        validation = validate_since(Path("data"), "main", None, TODAY, cache_dir=repo / "cache")
        found = [(p.path, p.code, p.got) for p in validation.report.problems]
        assert found == [(path, code, got)]
        message = (
            f"compared with {stories} stories not read: {cached} fingerprints came from the cache"
        )
        assert message in caplog.messages
