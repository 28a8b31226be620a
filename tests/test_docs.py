"""The generated docs pages are up to date, and every command and problem code is documented."""

from __future__ import annotations

import re

import click
import pytest

from pipelines.cli import main
from pipelines.docs import ROOT, generated_pages
from pipelines.validate.codes import CODES

PAGES = generated_pages()


@pytest.mark.parametrize("path", sorted(PAGES), ids=[p.name for p in sorted(PAGES)])
def test_generated_page_is_up_to_date(path: object) -> None:
    assert path.read_text(encoding="utf-8") == PAGES[path], (  # type: ignore[attr-defined]
        f"{path} is stale: run `make docs` and commit the result"
    )


def test_every_problem_code_has_a_section() -> None:
    page = (ROOT / "docs/problems.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### ([a-z0-9-]+)$", page, flags=re.MULTILINE)
    assert sorted(headings) == sorted(CODES)
    for entry in CODES.values():
        assert entry.explanation in page and entry.fix in page


def all_commands(
    command: click.Command, path: tuple[str, ...] = ("feedback",)
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += all_commands(sub, (*path, name))
    return found


COMMANDS = all_commands(main)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_is_in_the_cli_reference(
    path: tuple[str, ...], command: click.Command
) -> None:
    page = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
    assert f"## {' '.join(path)}\n" in page
    assert command.help, f"{' '.join(path)} has no help"


def test_every_validate_option_states_its_default() -> None:
    validate = main.commands["validate"]
    for param in validate.params:
        if isinstance(param, click.Option) and param.help and param.name != "help":
            assert param.show_default or "Default" in param.help, param.name


def test_report_format_page_documents_every_json_key() -> None:
    page = (ROOT / "docs/report-format.md").read_text(encoding="utf-8")
    for key in ("problems", "accepted", "summary.errors", "summary.files_checked", "severity"):
        assert f"`{key}`" in page


def test_every_module_the_makefile_runs_exists() -> None:
    # `make update-golden` ran a tests.golden module that was never written.
    import importlib.util

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    modules = re.findall(r"python -m ([\w.]+)", makefile)
    assert "pipelines.docs" in modules and "bench" in modules
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    assert missing == [], f"the Makefile runs modules that do not exist: {missing}"
