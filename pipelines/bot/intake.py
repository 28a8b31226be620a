"""Stories that do not arrive as a contributor's own pull request.

- issue-to-pr: a story written with the issue form becomes a story file, is validated, and
  is opened as a pull request from a bot branch that credits the issue; otherwise the bot
  comments on the issue with what to fix. The contributor's login is never in the file.
- promote: a story moderated in the instance's private intake repository is opened as a
  pull request on the public repository, as one new commit holding only the moderated
  file, so unmoderated text never enters public history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipelines.bot.answers import parse_issue_body, story_yaml
from pipelines.bot.branch import OpenedPullRequest, branch_exists, open_pull_request
from pipelines.bot.client import BotError, split_repository, talking_to_github
from pipelines.bot.comment import CommentResult, upsert_comment
from pipelines.bot.issue_form import FORM_LABELS, StoryForm, read_instance, story_form
from pipelines.load import load_dataset
from pipelines.package import SourcePackage, read_source_package
from pipelines.problems import Problem, escape_markdown
from pipelines.scaffold import ID_ALPHABET
from pipelines.validate import validate_dataset

INTAKE_MARKER = "<!-- feedback-commons-intake -->"
ISSUE_FORM = "issue-form"
PUBLISHED = "published"


@dataclass(frozen=True)
class IntakeResult:
    status: Literal["opened", "problems", "exists", "closed"]
    message: str
    pull: OpenedPullRequest | None = None
    problems: tuple[Problem, ...] = ()
    comment: CommentResult | None = None


def story_id_for(repository: str, number: int, submitted: dt.date) -> str:
    """The same issue always gives the same id, so running intake again cannot duplicate it."""
    digest = int(hashlib.sha256(f"{repository}#{number}".encode()).hexdigest(), 16)
    suffix = ""
    for _ in range(6):
        digest, index = divmod(digest, len(ID_ALPHABET))
        suffix += ID_ALPHABET[index]
    return f"{submitted:%Y-%m-%d}-{suffix}"


def story_path(package: SourcePackage, story_id: str) -> str:
    """Where a story lives inside the data folder, from the descriptor's feedback:files pattern."""
    for resource in package.descriptor.get("resources", []):
        if resource.get("name") == "stories" and resource.get("feedback:files"):
            return str(resource["feedback:files"]).format(year=story_id[:4], id=story_id)
    return f"{package.table('stories').path}/{story_id[:4]}/{story_id}.yaml"


def check_story(data_dir: Path, relative: str, text: str, today: dt.date) -> list[Problem]:
    """Validate one new story file against the data folder, leaving the folder as it was."""
    package = read_source_package(data_dir)
    # The other record files are not read, but references to them (a story confirming a
    # response) must resolve: name their ids, as `feedback validate --since` does.
    known = {
        table.name: frozenset(p.stem for p in (data_dir / table.path).rglob("*.yaml"))
        for table in package.tables
        if table.is_file_per_record and (data_dir / table.path).is_dir()
    }
    path = data_dir / relative
    made = [parent for parent in reversed(path.parents) if not parent.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as error:
        raise BotError(
            f"{relative} already exists in {data_dir}: this story is already there"
        ) from error
    try:
        dataset = load_dataset(data_dir, only=[str(path)])
        report = validate_dataset(dataset, today=today, known_ids=known).report
    finally:
        path.unlink()
        for folder in reversed(made):
            folder.rmdir()
    shown = f"{dataset.display_dir}/{relative}"
    return [p for p in report.problems if p.path == shown]


def _enum(package: SourcePackage, table: str, name: str) -> list[Any]:
    try:
        return list(package.table(table).field(name).get("constraints", {}).get("enum", []))
    except KeyError:
        return []


def _repo_path(data_dir: Path, relative: str) -> str:
    prefix = data_dir.name if data_dir.is_absolute() else data_dir.as_posix().strip("/")
    return f"{prefix}/{relative}" if prefix not in ("", ".") else relative


def problems_comment(problems: list[Problem], form: StoryForm) -> str:
    """The issue comment listing what to fix, in the form's own words, escaped for Markdown."""
    labels = {item.target: item.label for item in form.fields}
    lines = [
        INTAKE_MARKER,
        "## Thank you: a few things to fix first",
        "",
        "Your story could not be turned into a pull request yet:",
        "",
    ]
    for p in problems:
        if p.severity != "error":
            continue
        name = labels.get(p.field, labels.get(p.field.split(".")[0], p.field))
        lines.append(
            f"- **{escape_markdown(name)}**: expected {escape_markdown(p.expected)}, got "
            f"{escape_markdown(p.got)}. How to fix: {escape_markdown(p.fix)}"
        )
    lines += [
        "",
        "Edit this issue (the ⋯ menu at its top, then Edit) to fix them: the check runs again "
        "when you save.",
    ]
    return "\n".join(lines) + "\n"


def opened_comment(pull: OpenedPullRequest) -> str:
    return (
        f"{INTAKE_MARKER}\n## Thank you: your story is now pull request #{pull.number}\n\n"
        "A moderator reviews it there before it is published. Your GitHub login is not part "
        f"of the story. To change the story now, comment on #{pull.number}.\n"
    )


def issue_to_pull_request(
    session: Any, repository: str, number: int, data_dir: Path, bot_login: str
) -> IntakeResult:
    """Turn issue #number, written with the story form, into a pull request (or a comment saying why not)."""
    owner, name = split_repository(repository)
    with talking_to_github(f"reading issue #{number} of {repository}"):
        repo = session.repository(owner, name)
        issue = repo.issue(number)
    if issue.as_dict().get("pull_request") is not None:
        raise BotError(f"#{number} is a pull request, not an issue written with the story form")
    if not set(FORM_LABELS) <= {label.name for label in issue.original_labels}:
        raise BotError(
            f"issue #{number} has no {', '.join(FORM_LABELS)} label: only issues written with "
            "the story form are turned into pull requests"
        )
    if issue.state != "open":  # its pull request was merged, or it was closed by hand
        return IntakeResult("closed", f"#{number}: the issue is closed: nothing to do")
    branch = f"story/issue-{number}"
    if branch_exists(repo, branch):
        return IntakeResult(
            "exists", f"#{number}: the branch {branch} exists already: the story was opened before"
        )
    package = read_source_package(data_dir)
    instance = read_instance(data_dir)
    form = story_form(data_dir)
    answers = parse_issue_body(issue.body or "", form)
    submitted = issue.created_at.date()
    story_id = story_id_for(repository, number, submitted)
    settings: dict[str, Any] = {
        "id": story_id,
        "submitted": f"{submitted:%Y-%m-%d}",
        "status": PUBLISHED,
        "licence": instance.get("licence"),
    }
    if ISSUE_FORM in _enum(package, "stories", "submitted_via"):
        settings["submitted_via"] = ISSUE_FORM
    text = story_yaml(answers, settings, package, form)
    relative = story_path(package, story_id)
    problems = check_story(data_dir, relative, text, submitted)
    if any(p.severity == "error" for p in problems):
        comment = upsert_comment(issue, INTAKE_MARKER, problems_comment(problems, form), bot_login)
        return IntakeResult(
            "problems",
            f"#{number}: {sum(p.severity == 'error' for p in problems)} problem(s) to fix; "
            f"commented on the issue ({comment.action})",
            problems=tuple(problems),
            comment=comment,
        )
    base = instance.get("branch") or repo.default_branch
    pull = open_pull_request(
        repo,
        base,
        branch,
        {_repo_path(data_dir, relative): text},
        f"Add story {story_id} from issue #{number}\n\nWritten with the story issue form; "
        "the contributor's GitHub login is not part of the story.",
        f"Story {story_id} from #{number}",
        f"From #{number}: a story written with the issue form, opened as a pull request by "
        f"the bot for a moderator to review.\n\nCloses #{number}\n",
    )
    comment = upsert_comment(issue, INTAKE_MARKER, opened_comment(pull), bot_login)
    return IntakeResult(
        "opened",
        f"#{number}: opened pull request #{pull.number} ({pull.url})",
        pull=pull,
        problems=tuple(problems),
        comment=comment,
    )


def promote_story(
    session: Any, repository: str, intake_repository: str, story_id: str, data_dir: Path
) -> IntakeResult:
    """Open a pull request on repository with the moderated story story_id from the intake's default branch."""
    package = read_source_package(data_dir)
    pattern = package.table("stories").field("id").get("constraints", {}).get("pattern", "")
    try:
        submitted = dt.date.fromisoformat(story_id[:10])
    except ValueError:
        submitted = None
    if submitted is None or not re.fullmatch(pattern or r"[0-9a-z-]+", story_id):
        raise BotError(f'"{story_id}" is not a story id such as 2026-11-22-k3m9qz')
    relative = story_path(package, story_id)
    path = _repo_path(data_dir, relative)
    if (data_dir / relative).exists():
        return IntakeResult("exists", f"{story_id}: {path} is already in the public repository")
    intake_owner, intake_name = split_repository(intake_repository)
    with talking_to_github(f"reading {path} from the intake repository {intake_repository}"):
        intake = session.repository(intake_owner, intake_name)
        contents = intake.file_contents(path, ref=intake.default_branch)
    try:
        text = bytes(contents.decoded).decode("utf-8")
    except UnicodeDecodeError as error:
        raise BotError(f"{path} in {intake_repository} is not UTF-8 text") from error
    owner, name = split_repository(repository)
    with talking_to_github(f"reading {repository}"):
        repo = session.repository(owner, name)
    branch = f"story/{story_id}"
    if branch_exists(repo, branch):
        return IntakeResult(
            "exists", f"{story_id}: the branch {branch} exists already: it was promoted before"
        )
    problems = check_story(data_dir, relative, text, submitted)
    if any(p.severity == "error" for p in problems):
        return IntakeResult(
            "problems",
            f"{story_id}: {sum(p.severity == 'error' for p in problems)} problem(s): fix the "
            f"story in {intake_repository} first",
            problems=tuple(problems),
        )
    base = read_instance(data_dir).get("branch") or repo.default_branch
    pull = open_pull_request(
        repo,
        base,
        branch,
        {path: text},
        f"Add story {story_id} from the private intake\n\nModerated in the private intake "
        "repository; only the moderated file is in this commit.",
        f"Story {story_id} (moderated in the private intake)",
        f"A story sent privately and moderated in the private intake repository. Only the "
        f"moderated file is in this pull request.\n\nPromoted with `feedback bot promote {story_id}`.\n",
    )
    return IntakeResult(
        "opened", f"{story_id}: opened pull request #{pull.number} ({pull.url})", pull
    )
