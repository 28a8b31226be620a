"""The `feedback` command line: parses options, calls the stages, renders results.

The only module that prints or exits.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from pipelines import __version__
from pipelines.logs import get_logger
from pipelines.package import PackageError

F = TypeVar("F", bound=Callable[..., Any])

log = get_logger("pipelines")


class OperatorError(click.ClickException):
    """A problem with how the command was run or set up, not with contributor data."""

    exit_code = 2


def data_option(function: F) -> F:
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("data"),
        show_default=True,
        help="The data directory: the folder holding datapackage.json.",
    )(function)


def output_option(default: str) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        return click.option(
            "--output",
            "output_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(default),
            show_default=True,
            help="Where to write; replaced whole only when the run succeeds.",
        )(function)

    return decorate


def debug_option(function: F) -> F:
    """--debug and --quiet, and turning operator errors into one line plus a hint."""

    @click.option("--debug", is_flag=True, help="Show tracebacks and debug logging. Default: off.")
    @click.option(
        "--quiet", "-q", is_flag=True, help="Print nothing but results and errors. Default: off."
    )
    @functools.wraps(function)
    def wrapper(*args: Any, debug: bool, quiet: bool, **kwargs: Any) -> Any:
        level = logging.DEBUG if debug else (logging.WARNING if quiet else logging.INFO)
        logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
        # Pelican narrates every file it writes; our stages report progress themselves.
        logging.getLogger("pelican").setLevel(logging.DEBUG if debug else logging.WARNING)
        click.get_current_context().meta["quiet"] = quiet
        try:
            return function(*args, **kwargs)
        except PackageError as error:
            if debug:
                raise
            raise OperatorError(str(error)) from error
        except click.ClickException:
            raise
        except Exception as error:
            if debug:
                raise
            raise OperatorError(
                f"{type(error).__name__}: {error}\n(this is a bug in Feedback Commons, not in your data: "
                "run again with --debug and report the traceback)"
            ) from error

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="feedback")
def main() -> None:
    """Feedback Commons: stories about public services, validated and published.

    \b
    Example:
        feedback validate
        feedback build --output output
    """


@main.command()
@data_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, markdown for a pull-request comment, github for annotations.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too. Default: only errors fail.")
@click.option(
    "--since",
    "since",
    metavar="REF",
    default=None,
    help="Check only what changed since this git revision, with the change rules "
    "(docs/contributing.md). Default: check everything, without change rules.",
)
@click.option(
    "--author",
    metavar="LOGIN",
    default=None,
    help="With --since: the pull request author's GitHub login, for the responder rule. "
    "Default: none (the responder rule is skipped).",
)
@debug_option
def validate(
    data_dir: Path, output_format: str, strict: bool, since: str | None, author: str | None
) -> None:
    """Check every data file and report every problem at once.

    Exit status: 0 no errors, 1 errors found (or warnings with --strict), 2 usage error.

    \b
    Example:
        feedback validate --data data --format json
        feedback validate --since origin/main --author octocat --format github
    """
    from pipelines.load import DEFAULT_CACHE_DIR, load_dataset
    from pipelines.problems import RENDERERS, docs_url, render_markdown
    from pipelines.validate import ChangeError, file_values, validate_dataset, validate_since

    if author is not None and since is None:
        raise click.UsageError("--author needs --since: the author is only checked for changes")
    if since is not None:
        try:
            validation = validate_since(
                data_dir, since, author, cache_dir=DEFAULT_CACHE_DIR, commons=False
            )
        except ChangeError as error:
            raise OperatorError(str(error)) from error
        if author is None and not click.get_current_context().meta.get("quiet"):
            log.info("no --author given: responses are not checked against responders.csv")
    else:
        dataset = load_dataset(data_dir, cache_dir=DEFAULT_CACHE_DIR, derive=file_values)
        validation = validate_dataset(dataset, commons=False)
    report = validation.report
    if output_format == "markdown" and validation.instance is not None:
        instance = validation.instance
        text = render_markdown(report, docs_url(instance.repository, instance.branch))
    else:
        text = RENDERERS[output_format](report)
    click.echo(text, nl=False)
    sys.exit(1 if report.failed(strict) else 0)


@main.command()
@data_option
@output_option("output")
@click.option(
    "--settings",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("pelican.conf.py"),
    show_default=True,
    help="The Pelican settings file.",
)
@debug_option
def build(data_dir: Path, output_dir: Path, settings: Path) -> None:
    """Validate, then build the whole site into the output folder.

    A failed build leaves the previous output untouched.

    \b
    Example:
        feedback build --output output
    """
    from pipelines.build import BuildFailed, build_all
    from pipelines.load import DEFAULT_CACHE_DIR

    try:
        result = build_all(data_dir, output_dir, settings, cache_dir=DEFAULT_CACHE_DIR)
    except BuildFailed as failure:
        from pipelines.problems import render_text

        if failure.report is not None:
            click.echo(render_text(failure.report), err=True, nl=False)
        click.echo(f"build failed: {failure}; {output_dir} was left as it was", err=True)
        sys.exit(1)
    if not click.get_current_context().meta.get("quiet"):
        click.echo(result.summary())


@main.command()
@data_option
@output_option("output")
@click.option(
    "--settings",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("pelican.conf.py"),
    show_default=True,
    help="The Pelican settings file.",
)
@click.option(
    "--port", type=int, default=8000, show_default=True, help="The port to serve on, on localhost."
)
@click.option(
    "--watch/--no-watch",
    default=True,
    show_default=True,
    help="Rebuild when data, content or theme change.",
)
@debug_option
def serve(data_dir: Path, output_dir: Path, settings: Path, port: int, watch: bool) -> None:
    """Build, then preview the site on localhost, rebuilding on change.

    \b
    Example:
        feedback serve --port 8000
    """
    from pipelines.serve import serve_site

    serve_site(data_dir, output_dir, settings, port, watch)


@main.group()
def new() -> None:
    """Start a new data file from a template."""


@new.command("story")
@data_option
@click.option("--provider", required=True, help="The provider's id, from providers.csv.")
@click.option(
    "--title",
    default=None,
    help="A short title. Default: asked for on a terminal, else left to fill in.",
)
@debug_option
def new_story(data_dir: Path, provider: str, title: str | None) -> None:
    """Write a new story file with a fresh id, ready to fill in.

    \b
    Example:
        feedback new story --provider old-mill-surgery --title "Kind and quick"
    """
    from pipelines.scaffold import ScaffoldError, new_story_file

    try:
        path = new_story_file(data_dir, provider, title)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from error
    click.echo(path.as_posix())


# --- feedback bot: GitHub through github3.py (issue #6) ---------------------------------


@main.command()
@data_option
@output_option("output/data")
@click.option(
    "--diff",
    "diff_paths",
    nargs=2,
    type=click.Path(exists=True, path_type=Path),
    default=None,
    metavar="OLD NEW",
    help="Print the stories added, withdrawn and edited between two exported packages "
    "(folders, datapackage.json files or zips) instead of exporting. Default: export.",
)
@debug_option
def export(data_dir: Path, output_dir: Path, diff_paths: tuple[Path, Path] | None) -> None:
    """Validate, then write the open data package: CSV, JSON, Parquet, SQLite and a zip.

    \b
    Example:
        feedback export --output output/data
        feedback export --diff old/data output/data
    """
    if diff_paths:
        from pipelines.export.diff import PackageReadError, diff_packages

        try:
            difference = diff_packages(*diff_paths)
        except PackageReadError as error:
            raise OperatorError(str(error)) from error
        click.echo(difference.render(), nl=False)
        return
    from pipelines.export import export_package
    from pipelines.load import DEFAULT_CACHE_DIR, load_dataset
    from pipelines.problems import render_text
    from pipelines.validate import file_values, validate_dataset

    started = time.perf_counter()
    dataset = load_dataset(data_dir, cache_dir=DEFAULT_CACHE_DIR, derive=file_values)
    validation = validate_dataset(dataset)
    if validation.report.errors or validation.commons is None:
        click.echo(render_text(validation.report), err=True, nl=False)
        click.echo(f"export failed: the data has errors; {output_dir} was left as it was", err=True)
        sys.exit(1)
    validated = time.perf_counter()
    # An unchanged package is linked from the last export into the same folder.
    release = export_package(
        validation.commons,
        data_dir,
        output_dir,
        previous=output_dir,
        data_digest=dataset.digest,
        cache_dir=DEFAULT_CACHE_DIR,
    )
    log.info(
        "loaded and validated in %.1f s, exported in %.1f s",
        validated - started,
        time.perf_counter() - validated,
    )
    if not click.get_current_context().meta.get("quiet"):
        click.echo(
            f"exported version {release.version} ({len(validation.commons.stories)} stories) "
            f"into {output_dir.as_posix()}"
        )


@main.command("demo-data")
@click.option(
    "--stories",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="How many stories.",
)
@click.option(
    "--providers",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="How many providers the stories are spread over.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The same seed always gives the same files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A new folder to write the synthetic instance into (required; must not exist).",
)
@data_option
@debug_option
def demo_data(stories: int, providers: int, seed: int, out_dir: Path, data_dir: Path) -> None:
    """Write a synthetic instance for benchmarks and tests: never publish it as real feedback.

    The descriptor, schemas and vocabularies are copied from --data.

    \b
    Example:
        feedback demo-data --stories 10000 --providers 200 --seed 1 --out bench/data/10k
    """
    from pipelines.demo_data import write_demo_data

    if out_dir.exists():
        raise OperatorError(f"{out_dir} already exists: choose a new folder for the synthetic data")
    summary = write_demo_data(out_dir, stories, providers, seed, data_dir)
    if not click.get_current_context().meta.get("quiet"):
        click.echo(
            f"wrote {summary.stories} stories ({summary.withdrawn} withdrawn) and "
            f"{summary.responses} responses about {summary.providers} providers "
            f"into {out_dir.as_posix()}"
        )


# --- feedback bot: GitHub through github3.py (issue #6) ---------------------------------


@main.group()
def bot() -> None:
    """Work with GitHub: report comments, labels, issue-form stories, private intake.

    The token is read from GITHUB_TOKEN, never from an option.
    """


def bot_options(function: F) -> F:
    """--repo and --api-url, shared by the bot commands that talk to GitHub."""
    function = click.option(
        "--api-url",
        envvar="GITHUB_API_URL",
        default="https://api.github.com",
        show_default=True,
        help="GitHub's REST API (GITHUB_API_URL in Actions).",
    )(function)
    return click.option(
        "--repo",
        "repository",
        envvar="GITHUB_REPOSITORY",
        default=None,
        help="The repository as owner/name. Default: GITHUB_REPOSITORY, else repository in instance.yaml.",
    )(function)


def bot_login_option(function: F) -> F:
    return click.option(
        "--bot-login",
        envvar="FEEDBACK_BOT_LOGIN",
        default="github-actions[bot]",
        show_default=True,
        help="The login the bot comments as (FEEDBACK_BOT_LOGIN); only its comments are updated.",
    )(function)


@contextlib.contextmanager
def _github(data_dir: Path, repository: str | None, api_url: str) -> Iterator[tuple[Any, str]]:
    """A github3.py session and the repository, with GitHub's failures as one line each."""
    from pipelines.bot.client import BotError, connect
    from pipelines.bot.issue_form import read_instance

    # github3.py narrates every URL it builds at INFO; keep that for --debug.
    logging.getLogger("github3").setLevel(
        logging.DEBUG if logging.getLogger().isEnabledFor(logging.DEBUG) else logging.WARNING
    )
    repository = repository or read_instance(data_dir).get("repository")
    if not repository:
        raise OperatorError(
            "no repository: pass --repo owner/name or set repository in instance.yaml"
        )
    try:
        yield connect(os.environ.get("GITHUB_TOKEN", ""), api_url), repository
    except BotError as error:
        raise OperatorError(str(error)) from error


@bot.command("comment")
@click.option(
    "--artifact",
    "artifact_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    required=True,
    help="The unpacked artifact of the validate workflow (required; read as untrusted data).",
)
@click.option(
    "--head-sha",
    required=True,
    help="The commit the validate run checked, from the workflow_run event (required).",
)
@data_option
@bot_options
@bot_login_option
@debug_option
def bot_comment(
    artifact_dir: Path,
    head_sha: str,
    data_dir: Path,
    repository: str | None,
    api_url: str,
    bot_login: str,
) -> None:
    """Post or update the one report comment on a pull request, check responders, set labels.

    \b
    Example:
        feedback bot comment --artifact report --head-sha "$HEAD_SHA"
    """
    from pipelines.bot.artifact import read_artifact
    from pipelines.bot.review import review_pull_request

    with _github(data_dir, repository, api_url) as (session, repo):
        artifact = read_artifact(artifact_dir)
        result = review_pull_request(session, repo, artifact, head_sha, data_dir, bot_login)
    click.echo(result.summary())


@bot.command("issue-to-pr")
@click.option(
    "--issue",
    "number",
    type=click.IntRange(min=1),
    required=True,
    help="The issue number (required).",
)
@data_option
@bot_options
@bot_login_option
@debug_option
def bot_issue_to_pr(
    number: int, data_dir: Path, repository: str | None, api_url: str, bot_login: str
) -> None:
    """Turn a story written with the issue form into a pull request, or comment what to fix.

    Exit status: 0 opened (or opened before), 1 the story has problems (listed on the issue).

    \b
    Example:
        feedback bot issue-to-pr --issue 42
    """
    from pipelines.bot.intake import issue_to_pull_request

    with _github(data_dir, repository, api_url) as (session, repo):
        result = issue_to_pull_request(session, repo, number, data_dir, bot_login)
    click.echo(result.message)
    sys.exit(1 if result.status == "problems" else 0)


@bot.command("promote")
@click.argument("story_id")
@click.option(
    "--intake",
    "intake_repository",
    default=None,
    help="The private intake repository as owner/name. Default: intake_repository in instance.yaml.",
)
@data_option
@bot_options
@debug_option
def bot_promote(
    story_id: str,
    intake_repository: str | None,
    data_dir: Path,
    repository: str | None,
    api_url: str,
) -> None:
    """Open a pull request with a story moderated in the private intake repository.

    The token must be able to read the intake repository and write to the public one.
    Exit status: 0 opened (or opened before), 1 the story has problems (listed).

    \b
    Example:
        feedback bot promote 2026-11-22-k3m9qz
    """
    from pipelines.bot.intake import promote_story
    from pipelines.bot.issue_form import read_instance
    from pipelines.problems import Report, render_text

    intake_repository = intake_repository or read_instance(data_dir).get("intake_repository")
    if not intake_repository:
        raise OperatorError(
            "no intake repository: pass --intake owner/name or set intake_repository in instance.yaml"
        )
    with _github(data_dir, repository, api_url) as (session, repo):
        result = promote_story(session, repo, intake_repository, story_id, data_dir)
    if result.problems:
        click.echo(render_text(Report.of(result.problems, 1)), err=True, nl=False)
    click.echo(result.message)
    sys.exit(1 if result.status == "problems" else 0)


@bot.command("labels")
@data_option
@bot_options
@debug_option
def bot_labels(data_dir: Path, repository: str | None, api_url: str) -> None:
    """Create the labels the bot and the story form use, where the repository lacks them.

    \b
    Example:
        feedback bot labels --repo feedback-commons/wrenford
    """
    from pipelines.bot.client import split_repository, talking_to_github
    from pipelines.bot.labels import create_missing_labels

    with _github(data_dir, repository, api_url) as (session, repo):
        owner, name = split_repository(repo)
        with talking_to_github(f"reading {repo}"):
            repository_object = session.repository(owner, name)
        created = create_missing_labels(repository_object)
    click.echo(f"created {', '.join(created)}" if created else "every label exists already")


@bot.command("issue-form")
@data_option
@click.option(
    "--check",
    is_flag=True,
    help="Only check: exit 1 if the form is stale, write nothing. Default: write the form.",
)
@debug_option
def bot_issue_form(data_dir: Path, check: bool) -> None:
    """Write .github/ISSUE_TEMPLATE/story.yml from the schemas, providers and vocabularies.

    \b
    Example:
        feedback bot issue-form --data data
    """
    from pipelines.bot.issue_form import FORM_PATH, form_text

    text = form_text(data_dir)
    current = FORM_PATH.read_text(encoding="utf-8") if FORM_PATH.is_file() else None
    if check:
        if current != text:
            click.echo(f"{FORM_PATH.as_posix()} is stale: run `feedback bot issue-form`", err=True)
            sys.exit(1)
        click.echo(f"{FORM_PATH.as_posix()} is up to date")
        return
    if current != text:
        FORM_PATH.parent.mkdir(parents=True, exist_ok=True)
        FORM_PATH.write_text(text, encoding="utf-8")
    click.echo(f"{'wrote' if current != text else 'unchanged'} {FORM_PATH.as_posix()}")
