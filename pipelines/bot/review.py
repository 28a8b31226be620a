"""`feedback bot comment`: the report comment, responder authorisation and labels on one pull request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.bot.artifact import ValidationArtifact
from pipelines.bot.authorise import refused_responses, responders_by_provider
from pipelines.bot.client import BotError, split_repository, talking_to_github
from pipelines.bot.comment import CommentResult, upsert_comment
from pipelines.bot.labels import ChangedFile, LabelChange, decide_labels, sync_labels
from pipelines.logs import get_logger
from pipelines.package import read_source_package
from pipelines.problems import MARKDOWN_MARKER, Problem, Report, render_markdown

log = get_logger(__name__)


@dataclass(frozen=True)
class ReviewResult:
    number: int
    skipped: str | None = None  # why nothing was posted
    comment: CommentResult | None = None
    labels: LabelChange | None = None
    refused: tuple[Problem, ...] = ()

    def summary(self) -> str:
        if self.skipped:
            return f"#{self.number}: nothing posted: {self.skipped}"
        assert self.comment is not None and self.labels is not None
        changes = [f"+{name}" for name in self.labels.added] + [
            f"-{name}" for name in self.labels.removed
        ]
        refused = f"; {len(self.refused)} response(s) refused" if self.refused else ""
        return (
            f"#{self.number}: comment {self.comment.action} ({self.comment.url}); "
            f"labels {' '.join(changes) or 'unchanged'}{refused}"
        )


def review_pull_request(
    session: Any,
    repository: str,
    artifact: ValidationArtifact,
    run_head_sha: str,
    data_dir: Path,
    bot_login: str,
) -> ReviewResult:
    """Check the artifact belongs to the pull request's current head, then comment and label.

    run_head_sha comes from the workflow_run event (GitHub's own record of the commit the
    validate run checked), so an artifact cannot redirect the comment to another pull request.
    """
    if artifact.head_sha != run_head_sha:
        raise BotError(
            f"the artifact names commit {artifact.head_sha[:12]} but the validate run checked "
            f"{run_head_sha[:12]}: not commenting on an artifact that does not match its run"
        )
    owner, name = split_repository(repository)
    number = artifact.number
    with talking_to_github(f"reading pull request #{number} of {repository}"):
        repo = session.repository(owner, name)
        pull = repo.pull_request(number)
    if pull.head.sha != artifact.head_sha:
        return ReviewResult(
            number,
            skipped=(
                f"the pull request's head is now {pull.head.sha[:12]}, not "
                f"{artifact.head_sha[:12]}; the run for the newer commit will comment"
            ),
        )
    author = pull.user.login
    with talking_to_github(f"listing the files of pull request #{number}"):
        files = [
            ChangedFile(f.filename, f.status, f.as_dict().get("previous_filename"))
            for f in pull.files()
        ]
    package = read_source_package(data_dir)
    prefix = data_dir.as_posix().strip("/") if not data_dir.is_absolute() else data_dir.name

    def read_at_head(path: str) -> bytes:
        with talking_to_github(f"reading {path} at {artifact.head_sha[:12]}"):
            contents = repo.file_contents(path, ref=artifact.head_sha)
        return bytes(contents.decoded)

    refused = refused_responses(
        files,
        author,
        responders_by_provider(data_dir, package),
        read_at_head,
        f"{prefix}/{package.table('responses').path}",
    )
    # validate's own --author check may have said the same; the comment shows it once.
    reported = {(p.path, p.code) for p in artifact.report.problems}
    report = Report.of(
        list(artifact.report.problems) + [p for p in refused if (p.path, p.code) not in reported],
        artifact.report.files_checked,
        artifact.report.accepted,
    )
    wanted = decide_labels(files, report, refused, package, prefix)
    with talking_to_github(f"reading pull request #{number} as an issue"):
        issue = repo.issue(number)
    comment = upsert_comment(issue, MARKDOWN_MARKER, render_markdown(report), bot_login)
    labels = sync_labels(issue, wanted)
    log.debug("labels wanted on #%d: %s", number, sorted(wanted))
    return ReviewResult(number, None, comment, labels, tuple(refused))
