"""The `feedback` command line: parses options, calls the stages, renders results.

The only module that prints or exits.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pipelines import __version__
from pipelines.package import PackageError

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("pipelines")


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
@debug_option
def validate(data_dir: Path, output_format: str, strict: bool) -> None:
    """Check every data file and report every problem at once.

    Exit status: 0 no errors, 1 errors found (or warnings with --strict), 2 usage error.

    \b
    Example:
        feedback validate --data data --format json
    """
    from pipelines.load import load_dataset
    from pipelines.problems import RENDERERS
    from pipelines.validate import validate_dataset

    dataset = load_dataset(data_dir)
    report = validate_dataset(dataset).report
    click.echo(RENDERERS[output_format](report), nl=False)
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

    try:
        result = build_all(data_dir, output_dir, settings)
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
