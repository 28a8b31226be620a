"""Responder authorisation: a response is accepted only from a login listed for its provider.

The login is the pull request's author as GitHub's API reports it, never a value from the
files the pull request adds; the list of responders is read from the base branch's checkout,
so a pull request cannot authorise itself by editing responders.csv.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from pipelines.bot.labels import ChangedFile
from pipelines.load import ReadIssue, display_path, read_csv_table
from pipelines.package import SourcePackage
from pipelines.problems import Problem, quote
from pipelines.validate.codes import code
from pipelines.yamlfile import Mapping, parse_yaml

CODE = "response-author-not-responder"  # the same check as validate's --author, same words


def responders_by_provider(data_dir: Path, package: SourcePackage) -> dict[str, set[str]]:
    """provider id -> the logins (lower-cased: GitHub logins ignore case) that may respond for it."""
    issues: list[ReadIssue] = []
    rows, _ = read_csv_table(data_dir, display_path(data_dir), package.table("responders"), issues)
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows.rows:
        if row.get("provider") and row.get("login"):
            out[str(row["provider"])].add(str(row["login"]).lower())
    return dict(out)


def _scalar(root: object, key: str) -> tuple[str | None, int]:
    if isinstance(root, Mapping) and key in root.items:
        value = root.items[key]
        return (value if isinstance(value, str) else None), root.key_lines[key]
    return None, 1


def refused_responses(
    files: Iterable[ChangedFile],
    author: str,
    responders: dict[str, set[str]],
    read_file: Callable[[str], bytes],
    responses_folder: str,
) -> list[Problem]:
    """A problem for every added or changed response file its pull request's author may not give."""
    problems = []
    login = author.lower()
    for changed in sorted(files):
        if changed.status == "removed" or not changed.path.startswith(responses_folder + "/"):
            continue
        raw = read_file(changed.path)
        try:
            root, _issues = parse_yaml(raw.decode("utf-8"))
        except UnicodeDecodeError:
            root = None
        provider, line = _scalar(root, "provider")
        written, responder_line = _scalar(root, "responder")
        if provider is None:
            problems.append(
                Problem(
                    changed.path,
                    line,
                    "provider",
                    CODE,
                    "a response naming its provider, so its responder can be checked",
                    "no provider that can be read",
                    "add the provider line as in the template, then push again.",
                    code(CODE).severity,
                )
            )
            continue
        if login not in responders.get(provider, set()):
            problems.append(
                Problem(
                    changed.path,
                    responder_line if written is not None else line,
                    "responder" if written is not None else "provider",
                    CODE,
                    f"a pull request by a login listed in responders.csv for {quote(provider)}",
                    f"a pull request by {quote(author)}",
                    f"open the pull request from a login listed for {provider}, or ask a maintainer to add {author} to responders.csv.",
                    code(CODE).severity,
                )
            )
        elif written is not None and written.lower() != login:
            problems.append(
                Problem(
                    changed.path,
                    responder_line,
                    "responder",
                    CODE,
                    f"the login of the pull request's author, {quote(author)}",
                    quote(written),
                    f"set responder to {author}: a response is signed by the login that opens its pull request.",
                    code(CODE).severity,
                )
            )
    return problems
