"""The validate workflow's artifact, read as untrusted data.

The artifact was made by a workflow that ran the pull request's own code, so it may say
anything. Only report.json and pull-request.json are read; every value is checked for
type and size, and the comment is rendered again from the parsed problems (never the
artifact's own Markdown).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pipelines.bot.client import BotError
from pipelines.problems import Problem, Report

REPORT_FILE = "report.json"
PULL_REQUEST_FILE = "pull-request.json"
MAX_ARTIFACT_BYTES = 1_000_000  # the validate workflow caps its reports well below this
MAX_PROBLEMS = 5000
MAX_TEXT = 2000
SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class ValidationArtifact:
    """What the validate run claims: the pull request, its head commit and the report."""

    number: int
    head_sha: str
    report: Report


def _read_json(folder: Path, name: str) -> Any:
    path = folder / name
    if not path.is_file():
        raise BotError(f"the artifact has no {name}: was it made by the validate workflow?")
    raw = path.read_bytes()
    if len(raw) > MAX_ARTIFACT_BYTES:
        raise BotError(f"the artifact's {name} is larger than {MAX_ARTIFACT_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BotError(f"the artifact's {name} is not JSON: {error}") from error


def _problem(item: Any, index: int) -> Problem:
    names = [f.name for f in fields(Problem)]
    if not isinstance(item, dict) or sorted(item) != sorted(names):
        raise BotError(f"the artifact's problem {index} does not have the fields of a problem")
    for name in names:
        value = item[name]
        wanted = int if name == "line" else str
        if type(value) is not wanted or (isinstance(value, str) and len(value) > MAX_TEXT):
            raise BotError(f"the artifact's problem {index} has a bad {name}")
    if item["severity"] not in ("error", "warning") or item["line"] < 0:
        raise BotError(f"the artifact's problem {index} has a bad severity or line")
    return Problem(**item)


def read_artifact(folder: Path) -> ValidationArtifact:
    """Parse and check the artifact; anything unexpected is a BotError, never a crash."""
    meta = _read_json(folder, PULL_REQUEST_FILE)
    if not isinstance(meta, dict):
        raise BotError(f"the artifact's {PULL_REQUEST_FILE} is not an object")
    number, head_sha = meta.get("number"), meta.get("head_sha")
    if type(number) is not int or number < 1:
        raise BotError(f"the artifact's {PULL_REQUEST_FILE} has no pull request number")
    if not isinstance(head_sha, str) or not SHA.fullmatch(head_sha):
        raise BotError(f"the artifact's {PULL_REQUEST_FILE} has no head commit SHA")
    data = _read_json(folder, REPORT_FILE)
    if not isinstance(data, dict):
        raise BotError(f"the artifact's {REPORT_FILE} is not an object")
    problems, accepted = data.get("problems"), data.get("accepted", [])
    summary = data.get("summary")
    if not isinstance(problems, list) or not isinstance(accepted, list):
        raise BotError(f"the artifact's {REPORT_FILE} has no list of problems")
    if len(problems) + len(accepted) > MAX_PROBLEMS:
        raise BotError(f"the artifact's {REPORT_FILE} lists more than {MAX_PROBLEMS} problems")
    checked = summary.get("files_checked") if isinstance(summary, dict) else None
    if type(checked) is not int or checked < 0:
        raise BotError(f"the artifact's {REPORT_FILE} has no count of files checked")
    report = Report.of(
        (_problem(item, i) for i, item in enumerate(problems, 1)),
        checked,
        (_problem(item, i) for i, item in enumerate(accepted, 1)),
    )
    return ValidationArtifact(number, head_sha, report)
