"""Problems found in contributor data, the Report that collects them, and its renderers."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Literal

Severity = Literal["error", "warning"]

# After this many problems of one code in one file, the rest are summed up in one line.
GROUP_AFTER = 20
QUOTE_LIMIT = 60
DOCS_URL = "docs/problems.md"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one value in one file, with how to put it right."""

    path: str  # repo-relative, forward slashes
    line: int  # 1-based; 0 only if the whole file is at fault
    field: str  # dotted path into the record: "ratings.overall"
    code: str  # kebab-case, documented in validate/codes.py
    expected: str
    got: str
    fix: str
    severity: Severity = "error"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A contributor's value as it is quoted back: in double quotes, on one line, shortened."""
    if value is None:
        return "nothing"
    text = str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "⏎")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f'"{text}"'


# Characters that would break a report's lines or could not be written as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ud800-\udfff]")


def _shown_control(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return "⏎"
    if "\ud800" <= char <= "\udfff":  # a byte of a file name that is not UTF-8
        return f"\\x{ord(char) - 0xDC00:02x}" if ord(char) >= 0xDC80 else "\ufffd"
    return f"\\u{ord(char):04x}"


def printable(problem: Problem) -> Problem:
    """The problem with every control character and undecodable byte in its text made
    visible: a file name or key holding a line break cannot forge a line of the report."""
    values = (problem.path, problem.field, problem.expected, problem.got, problem.fix)
    if not any(_CONTROL.search(value) for value in values):
        return problem
    path, field_name, expected, got, fix = (_CONTROL.sub(_shown_control, v) for v in values)
    return Problem(
        path, problem.line, field_name, problem.code, expected, got, fix, problem.severity
    )


@dataclass(frozen=True)
class Report:
    """Every problem found in one run, sorted, with what was checked."""

    problems: tuple[Problem, ...] = ()
    files_checked: int = 0
    accepted: tuple[Problem, ...] = field(default=())

    @classmethod
    def of(
        cls, problems: Iterable[Problem], files_checked: int, accepted: Iterable[Problem] = ()
    ) -> Report:
        return cls(
            tuple(sorted({printable(p) for p in problems})),
            files_checked,
            tuple(sorted({printable(p) for p in accepted})),
        )

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def failed(self, strict: bool = False) -> bool:
        """True when the run should fail: any error, or with strict any warning."""
        return bool(self.errors) or (strict and bool(self.warnings))

    def summary(self) -> dict[str, int]:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "files_with_problems": len({p.path for p in self.problems}),
            "files_checked": self.files_checked,
            "accepted": len(self.accepted),
        }


def grouped(problems: Iterable[Problem]) -> list[Problem | tuple[str, str, int]]:
    """Problems in order, where after GROUP_AFTER of one code in one file the rest become
    one ("and N more") marker: (path, code, how many more)."""
    seen: Counter[tuple[str, str]] = Counter()
    out: list[Problem | tuple[str, str, int]] = []
    extra: Counter[tuple[str, str]] = Counter()
    for problem in problems:
        key = (problem.path, problem.code)
        seen[key] += 1
        if seen[key] <= GROUP_AFTER:
            out.append(problem)
        else:
            if extra[key] == 0:
                out.append((problem.path, problem.code, 0))
            extra[key] += 1
    return [
        (item[0], item[1], extra[(item[0], item[1])]) if isinstance(item, tuple) else item
        for item in out
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    s = report.summary()
    accepted = (
        f", {_plural(s['accepted'], 'finding')} accepted by moderators" if s["accepted"] else ""
    )
    if not report.problems:
        return f"no problems ({_plural(s['files_checked'], 'file')} checked{accepted})"
    parts = []
    if s["errors"]:
        parts.append(_plural(s["errors"], "error"))
    if s["warnings"]:
        parts.append(_plural(s["warnings"], "warning"))
    return (
        f"{' and '.join(parts)} in {_plural(s['files_with_problems'], 'file')} "
        f"({_plural(s['files_checked'], 'file')} checked{accepted})"
    )


def render_text(report: Report) -> str:
    """Lines an editor or CI log understands: path:line: severity: field: expected …, got … [code]."""
    lines: list[str] = []
    for item in grouped(report.problems):
        if isinstance(item, tuple):
            path, code, more = item
            lines.append(f"{path}: … and {more} more [{code}]")
            continue
        p = item
        where = f"{p.path}:{p.line}" if p.line else p.path
        lines.append(
            f"{where}: {p.severity}: {p.field}: expected {p.expected}, got {p.got} [{p.code}]"
        )
        lines.append(f"  how to fix: {p.fix}")
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# Problem's fields, read once: dataclasses.asdict looks them up and deep-copies each value
# for every problem (seconds at 100,000 problems), though every value is a str or an int.
_PROBLEM_FIELDS = tuple(f.name for f in fields(Problem))
_problem_values = attrgetter(*_PROBLEM_FIELDS)


def _as_dict(problem: Problem) -> dict[str, object]:
    return dict(zip(_PROBLEM_FIELDS, _problem_values(problem), strict=True))


def report_as_dict(report: Report) -> dict[str, object]:
    return {
        "problems": [_as_dict(p) for p in report.problems],
        "accepted": [_as_dict(p) for p in report.accepted],
        "summary": report.summary(),
    }


def render_json(report: Report) -> str:
    """The documented JSON form: stable keys, sorted, no timings.

    Exactly json.dumps(report_as_dict(report), indent=2, sort_keys=True, ensure_ascii=False)
    plus a newline, written out here because json's indenting encoder runs in Python, value
    by value (seconds at 100,000 problems); each value here goes through json's C encoder.
    """
    parts = ["{\n"]
    for index, (name, problems) in enumerate(
        (("accepted", report.accepted), ("problems", report.problems))
    ):
        if index:
            parts.append(",\n")
        if not problems:
            parts.append(f'  "{name}": []')
            continue
        parts.append(f'  "{name}": [\n')
        parts.append(",\n".join(map(_json_object, problems)))
        parts.append("\n  ]")
    summary = json.dumps(report.summary(), indent=2, sort_keys=True, ensure_ascii=False)
    parts.append(',\n  "summary": ' + summary.replace("\n", "\n  ") + "\n}\n")
    return "".join(parts)


_SORTED_FIELDS = tuple(sorted(_PROBLEM_FIELDS))
_sorted_values = attrgetter(*_SORTED_FIELDS)
_KEYS = tuple(f'      "{name}": ' for name in _SORTED_FIELDS)
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json_object(problem: Problem) -> str:
    """One problem as json.dumps writes it at the second level of indent=2, sort_keys=True."""
    values = ",\n".join(
        key + (_encode(value) if type(value) is str else json.dumps(value, ensure_ascii=False))
        for key, value in zip(_KEYS, _sorted_values(problem), strict=True)
    )
    return "    {\n" + values + "\n    }"


MARKDOWN_LIMIT = 65536
MARKDOWN_MARKER = "<!-- feedback-commons-report -->"
_MARKDOWN_SPECIAL = "\\`*_{}[]()<>#+!|~&"
# Bidirectional controls and other invisible characters that could disguise text.
_INVISIBLE = frozenset(
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\r\t\x00"
)


def escape_markdown(text: str) -> str:
    """Text that renders as itself in a GitHub comment: no markup, links, mentions or HTML."""
    out = []
    for char in text.replace("\n", " "):
        if char in _MARKDOWN_SPECIAL:
            out.append(f"&#{ord(char)};")
        elif char == "@":
            out.append("@\u200b")  # never a mention
        elif char in _INVISIBLE:
            out.append(f"⟨U+{ord(char):04X}⟩")  # shown, never reordering the comment's text
        else:
            out.append(char)
    return "".join(out)


def docs_url(repository: str, branch: str) -> str:
    """The problem-codes page of an instance's repository on GitHub, for links in comments."""
    return f"https://github.com/{repository}/blob/{branch}/{DOCS_URL}"


def _markdown_row(item: Problem | tuple[str, str, int], docs: str) -> str:
    if isinstance(item, tuple):
        return f"| | | … and {item[2]} more of [{item[1]}]({docs}#{item[1]}) | |"
    p = item
    return (
        f"| {p.line or ''} | {escape_markdown(p.field)} | {p.severity}: expected "
        f"{escape_markdown(p.expected)}, got {escape_markdown(p.got)} "
        f"([{escape_markdown(p.code)}]({docs}#{p.code})) | {escape_markdown(p.fix)} |"
    )


def render_markdown(report: Report, docs_url: str = DOCS_URL) -> str:
    """The pull-request comment: a summary, then one table per file, at most MARKDOWN_LIMIT characters."""
    head = [MARKDOWN_MARKER, "## Feedback Commons check", ""]
    if not report.problems:
        head.append(f"✅ All good: {summary_line(report)}.")  # our words, no contributor text
        return "\n".join(head) + "\n"
    icon = "❌" if report.errors else "⚠️"
    head += [f"{icon} {summary_line(report)}.", ""]
    if report.errors:
        head += [
            "Please fix the errors below: edit the file in this pull request (the pencil icon "
            "in the Files changed tab) and the check runs again. Each row says where, what was "
            "expected and how to fix it; the code links to a longer explanation.",
            "",
        ]
    else:
        head += [
            "Only warnings: a moderator will look at them. Nothing needs to change unless they ask.",
            "",
        ]
    footer = (
        f"\nEach code links to its explanation in [the problem codes]({docs_url}). "
        "Run `feedback validate` in a checkout for the same report.\n"
    )
    cut = "\n… the report is too long to show whole: run `feedback validate` for the rest.\n"
    budget = MARKDOWN_LIMIT - len(footer) - len(cut)
    body = "\n".join(head)
    by_path: dict[str, list[Problem | tuple[str, str, int]]] = {}
    for item in grouped(report.problems):
        by_path.setdefault(item[0] if isinstance(item, tuple) else item.path, []).append(item)
    for path, items in by_path.items():
        section = (
            f"### {escape_markdown(path)}\n\n| line | field | problem | how to fix |\n"
            "| --- | --- | --- | --- |\n"
        )
        if len(body) + len(section) + 1 > budget:
            return body + cut + footer
        body += section
        for item in items:
            row = _markdown_row(item, docs_url) + "\n"
            if len(body) + len(row) + 1 > budget:
                return body + cut + footer
            body += row
        body += "\n"
    return body + footer


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """One workflow-command annotation per problem, escaped by GitHub's rules."""
    lines = []
    severity = {(p.path, p.code): p.severity for p in report.problems}
    for item in grouped(report.problems):
        if isinstance(item, tuple):
            lines.append(
                f"::{severity[(item[0], item[1])]} file={_escape_property(item[0])}::"
                f"{_escape_data(f'… and {item[2]} more [{item[1]}]')}"
            )
            continue
        p = item
        props = f"file={_escape_property(p.path)}"
        if p.line:
            props += f",line={p.line}"
        props += f",title={_escape_property(f'{p.field}: {p.code}')}"
        message = f"expected {p.expected}, got {p.got}\nhow to fix: {p.fix}"
        lines.append(f"::{p.severity} {props}::{_escape_data(message)}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "github": render_github,
}
