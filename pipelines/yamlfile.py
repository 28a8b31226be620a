"""Read one small YAML record file safely, keeping every value as the text the contributor typed.

libyaml's event stream is read without its recursive composer (which crashes the whole
process on deeply nested input), so nesting, anchors, aliases, custom tags and duplicate
keys are all caught here as problems with the parser's own line and column.
"""

from __future__ import annotations

import re
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
    simple = parse_simple_yaml(text)
    if simple is not None:
        return simple, []
    return parse_yaml_events(text)


# --- The common case, read line by line ------------------------------------------------
#
# libyaml's event stream costs about 130 microseconds for a 1 KB story file (a Python object
# per event and per mark): at 100,000 stories, most of a validation. Nearly every file is in
# a small, regular subset of YAML: `key: plain value` lines, nested mappings, block or flow
# lists of plain values, literal blocks (`story: |`), comments. parse_simple_yaml reads that
# subset in one pass over the lines and gives up (None) at anything else, which
# parse_yaml_events then reads with libyaml: so it may only ever return exactly what
# parse_yaml_events would, with no issues. tests/test_yamlfile.py compares the two on
# arbitrary text.

# Characters outside this set (tabs, carriage returns, control characters, YAML 1.1's extra
# line breaks NEL, LS and PS, byte order marks, non-characters) send a file to libyaml.
_UNUSUAL = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_KEY = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_.-]*):(?: +|$)")
# What a plain value may not start with (YAML's indicators), and what it may not hold.
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_UNSAFE = re.compile(r"[\[\]{}:#'\"]")
_SIMPLE_DEPTH = 4


class _GiveUp(Exception):
    """The text is outside the simple subset: libyaml must read it."""


def _plain(value: str) -> str | None:
    """A one-line plain value (trailing spaces already removed), or _GiveUp."""
    if not value or value[0] in _INDICATORS or ": " in value or " #" in value or value[-1] == ":":
        raise _GiveUp
    return None if value in NULLS else value


def _quoted(value: str) -> str:
    """A one-line quoted value without escapes (its quotes kept off), or _GiveUp."""
    quote = value[0]
    inner = value[1:-1]
    if len(value) < 2 or value[-1] != quote or quote in inner or "\\" in inner:
        raise _GiveUp
    return inner


def _flow_items(value: str, line: int) -> Sequence:
    """A one-line flow list of plain values, [a, b], or _GiveUp."""
    if value[-1] != "]":
        raise _GiveUp
    inner = value[1:-1]
    node = Sequence(line)
    if not inner.strip(" "):
        return node
    if _FLOW_UNSAFE.search(inner):
        raise _GiveUp
    for item in inner.split(","):
        node.items.append(_plain(item.strip(" ")))
        node.item_lines.append(line)
    return node


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _skippable(line: str) -> bool:
    """A line that holds nothing: blank, spaces, or a comment."""
    stripped = line.lstrip(" ")
    return not stripped or stripped[0] == "#"


class _Lines:
    """A cursor over the lines of one document."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.ends_with_break = text.endswith("\n")
        if self.ends_with_break:
            self.lines.pop()
        self.count = len(self.lines)
        self.index = 0

    def next_content(self) -> int:
        """The index of the next line that holds something (self.count at the end)."""
        index = self.index
        while index < self.count and _skippable(self.lines[index]):
            index += 1
        return index

    def mapping(self, indent: int, depth: int) -> Mapping:
        node = Mapping(self.index + 1)
        lines = self.lines
        while self.index < self.count:
            line = lines[self.index]
            match = _KEY.match(line)
            if match is None:
                if _skippable(line):
                    self.index += 1
                    continue
                if _indent(line) < indent:
                    return node
                raise _GiveUp
            column = match.end(1)
            if column != indent:
                if column < indent:
                    return node
                raise _GiveUp
            key = match.group(2)
            if key in node.items or key in NULLS:
                raise _GiveUp
            number = self.index + 1
            if not node.items:
                node.line = number
            node.key_lines[key] = number
            self.index = number
            rest = line[match.end() :]
            if rest:
                first = rest[0]
                if rest[-1] == " ":
                    rest = rest.rstrip(" ")
                if first == "|":
                    value: Value = self.literal(rest, indent)
                elif first == "[":
                    value = _flow_items(rest, number)
                elif first == "'" or first == '"':
                    value = _quoted(rest)
                else:
                    value = _plain(rest)
            else:
                value = self.below(indent, depth)
            node.items[key] = value
        return node

    def below(self, indent: int, depth: int) -> Value:
        """The value of a `key:` with nothing after it, at indent: on the lines below, if any."""
        below = self.next_content()
        if below >= self.count:
            return None
        text = self.lines[below]
        column = _indent(text)
        is_item = text[column : column + 2] == "- "
        if column < indent or (column == indent and not is_item):
            return None
        if depth + 1 >= _SIMPLE_DEPTH:
            raise _GiveUp
        self.index = below
        if is_item:
            return self.sequence(column)
        return self.mapping(column, depth + 1)

    def sequence(self, indent: int) -> Sequence:
        node = Sequence(self.index + 1)
        while True:
            start = self.next_content()
            if start >= self.count:
                self.index = start
                return node
            line = self.lines[start]
            column = _indent(line)
            if column < indent or (column == indent and line[column : column + 2] != "- "):
                self.index = start
                return node
            if column > indent:
                raise _GiveUp
            item = line[column + 2 :].strip(" ")
            if not item:
                raise _GiveUp
            node.items.append(_quoted(item) if item[0] in "'\"" else _plain(item))
            node.item_lines.append(start + 1)
            self.index = start + 1

    def literal(self, header: str, indent: int) -> str:
        """A literal block (| or |-) under a key at indent; its lines start below."""
        if header != "|" and header != "|-":
            raise _GiveUp
        lines = self.lines
        count = self.count
        begin = index = self.index
        # The block's indentation is that of its first line holding more than spaces.
        while index < count and not lines[index].strip(" "):
            index += 1
        if index >= count:
            raise _GiveUp
        block = _indent(lines[index])
        if block <= indent or any(len(lines[i]) > block for i in range(begin, index)):
            raise _GiveUp
        margin = " " * block
        end = index  # one past the last line holding text
        while index < count:
            line = lines[index]
            if line.startswith(margin):
                if line[-1] == " " and not line.strip(" "):
                    raise _GiveUp  # only spaces, as many as the margin or more: libyaml reads it
                end = index = index + 1
            elif line.strip(" "):
                break
            else:
                index += 1
        self.index = index
        text = "\n".join([line[block:] for line in lines[begin:end]])
        if header == "|-":
            return text
        breaks = end < count or self.ends_with_break
        return text + "\n" if breaks else text


def parse_simple_yaml(text: str) -> Mapping | None:
    """The document, when it is a mapping in the simple subset without any issue; else None."""
    if _UNUSUAL.search(text):
        return None
    lines = _Lines(text)
    start = lines.next_content()
    if start >= lines.count or _indent(lines.lines[start]):
        return None
    try:
        root = lines.mapping(0, 0)
    except _GiveUp:
        return None
    if lines.index < lines.count:
        return None
    return root


def parse_yaml_events(text: str) -> tuple[Value, list[YamlIssue]]:
    """parse_yaml through libyaml's event stream: any text, with the parser's positions."""
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
