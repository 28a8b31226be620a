"""Read one small YAML record file safely, keeping every value as the text the contributor typed.

libyaml's event stream is read without its recursive composer (which crashes the whole
process on deeply nested input), so nesting, anchors, aliases, custom tags and duplicate
keys are all caught here as problems with the parser's own line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import yaml

try:
    from yaml import CBaseLoader as _Loader
except ImportError:  # pragma: no cover - libyaml is part of PyYAML's wheels
    from yaml import BaseLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 6
NULLS = frozenset({"", "~", "null", "Null", "NULL"})

Value = Union[str, None, "Mapping", "Sequence"]


@dataclass
class Mapping:
    line: int
    items: dict[str, Value] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class Sequence:
    line: int
    items: list[Value] = field(default_factory=list)
    item_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class YamlIssue:
    """Why a YAML text could not be read as plain data, with the parser's position."""

    code: str
    line: int
    column: int
    detail: str
    field: str = ""


class _Stop(Exception):
    def __init__(self, issue: YamlIssue) -> None:
        self.issue = issue


def _scalar(event: yaml.ScalarEvent) -> str | None:
    if not event.style and event.value in NULLS:  # plain style: None in Python, "" from libyaml
        return None
    return str(event.value)


def parse_yaml(text: str) -> tuple[Value, list[YamlIssue]]:
    """The document's value (scalars as strings, plain nulls as None) and any issues.

    A syntax error, too deep nesting or an alias stops reading; duplicate keys and custom
    tags are reported and reading goes on, so one run shows as much as it can.
    """
    issues: list[YamlIssue] = []
    stack: list[Mapping | Sequence] = []
    pending_key: list[tuple[str, int] | None] = []
    root: Value = None
    documents = 0

    def place(value: Value, line: int, column: int) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        parent = stack[-1]
        if isinstance(parent, Sequence):
            parent.items.append(value)
            parent.item_lines.append(line)
            return
        key = pending_key[-1]
        if key is None:
            if isinstance(value, str | None):
                text_key = "" if value is None else value
                if text_key in parent.items:
                    prefix = _path(stack, pending_key)
                    issues.append(
                        YamlIssue(
                            "duplicate-key",
                            line,
                            column,
                            text_key,
                            f"{prefix}.{text_key}" if prefix else text_key,
                        )
                    )
                pending_key[-1] = (text_key, line)
            else:
                raise _Stop(
                    YamlIssue(
                        "yaml-syntax",
                        line,
                        column,
                        "a key must be plain text, not a list or mapping",
                    )
                )
        else:
            name, key_line = key
            if name not in parent.items:
                parent.items[name] = value
                parent.key_lines[name] = key_line
            pending_key[-1] = None

    try:
        for event in yaml.parse(text, Loader=_Loader):
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _Stop(
                    YamlIssue(
                        "yaml-anchor", line, column, "anchors (&) and aliases (*) are not accepted"
                    )
                )
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in ("!", "tag:yaml.org,2002:str"):
                issues.append(
                    YamlIssue("yaml-custom-tag", line, column, str(tag), _path(stack, pending_key))
                )
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Stop(
                        YamlIssue(
                            "yaml-syntax",
                            line,
                            column,
                            "only one document is allowed: remove the second ---",
                        )
                    )
            elif isinstance(event, yaml.ScalarEvent):
                place(_scalar(event), line, column)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise _Stop(
                        YamlIssue("nesting-too-deep", line, column, f"more than {MAX_DEPTH} levels")
                    )
                node: Mapping | Sequence = (
                    Mapping(line) if isinstance(event, yaml.MappingStartEvent) else Sequence(line)
                )
                place(node, line, column)
                stack.append(node)
                pending_key.append(None)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                stack.pop()
                pending_key.pop()
    except _Stop as stop:
        return None, [*issues, stop.issue]
    except yaml.MarkedYAMLError as error:
        # Where a construct started (an unclosed quote or bracket) says more than where the
        # parser gave up (often the end of the file): report that line, and both in words.
        mark = error.context_mark or error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        detail = error.problem or str(error)
        if error.context and error.context_mark and error.problem_mark:
            end = error.problem_mark
            detail = f"{error.context} at line {line}, column {column}: {detail} at line {end.line + 1}, column {end.column + 1}"
        elif error.context:
            detail = f"{detail} ({error.context})"
        return None, [*issues, YamlIssue("yaml-syntax", line, column, detail)]
    except yaml.YAMLError as error:
        return None, [*issues, YamlIssue("yaml-syntax", 0, 0, str(error))]
    return root, issues


def _path(stack: list[Mapping | Sequence], pending_key: list[tuple[str, int] | None]) -> str:
    parts = []
    for node, key in zip(stack, pending_key, strict=True):
        if isinstance(node, Mapping) and key is not None:
            parts.append(key[0])
    return ".".join(parts)
