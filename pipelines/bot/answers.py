"""An issue written with the story form, read back into a story file.

GitHub renders a submitted form as one "### <label>" section per question, in the form's
order, with "_No response_" for an empty answer, ", " between the choices of a multiple
dropdown and "- [X] <label>" for a ticked box. The issue's text is the contributor's and
may have been edited by hand, so reading it never fails: what cannot be read is left for
the validator to report.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from pipelines.bot.issue_form import FormField, StoryForm
from pipelines.package import SourcePackage

NO_RESPONSE = "_No response_"


def _sections(body: str, form: StoryForm) -> dict[str, str | None]:
    """Each question's answer text, None when its heading is missing.

    Only the textarea can hold a line like "### Title", so headings before it are found
    from the start and headings after it from the end.
    """
    text = "\n" + body.replace("\r\n", "\n").replace("\r", "\n") + "\n"
    headings = [f"\n### {item.label}\n" for item in form.fields]
    free = max((i for i, item in enumerate(form.fields) if item.kind == "textarea"), default=-1)
    starts: list[int] = [-1] * len(headings)
    position = 0
    for i in range(free + 1):
        found = text.find(headings[i], position)
        if found >= 0:
            starts[i] = found
            position = found + len(headings[i])
    floor = position
    end = len(text)
    for i in range(len(headings) - 1, free, -1):
        found = text.rfind(headings[i], floor, end)
        if found >= 0:
            starts[i] = found
            end = found
    out: dict[str, str | None] = {}
    for i, item in enumerate(form.fields):
        if starts[i] < 0:
            out[item.target] = None
            continue
        begin = starts[i] + len(headings[i])
        following = [s for s in starts[i + 1 :] if s >= 0]
        stop = min(following) if following else len(text)
        out[item.target] = text[begin:stop].strip("\n")
    return out


def _choice(item: FormField, answer: str) -> str:
    if answer in item.options:
        return item.values[item.options.index(answer)]
    if item.target == "provider":
        match = re.search(r"\[([^\[\]]+)\]\s*$", answer)
        if match:
            return match.group(1)
    return answer


def parse_issue_body(body: str, form: StoryForm) -> dict[str, Any]:
    """The answers by story field ("author.role", "ratings.overall", "tags.good"): a string,
    a list of strings (multiple dropdowns), True/False (checkboxes) or None when unanswered."""
    answers: dict[str, Any] = {}
    for item in form.fields:
        raw = _sections(body, form)[item.target]
        if raw is not None and item.kind != "textarea":
            raw = raw.strip()
        if raw is None or raw.strip() in ("", NO_RESPONSE):
            answers[item.target] = False if item.kind == "checkboxes" else None
        elif item.kind == "checkboxes":
            answers[item.target] = bool(re.match(r"- \[[xX]\] ", raw))
        elif item.kind == "dropdown" and item.multiple:
            answers[item.target] = [_choice(item, part.strip()) for part in raw.split(", ")]
        elif item.kind == "dropdown":
            answers[item.target] = _choice(item, raw)
        else:
            answers[item.target] = raw
    return answers


def _tidy(text: str) -> str:
    """Paragraph text without trailing spaces (which would force a quoted YAML string)."""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    return "\n".join(lines) + "\n"


class _StoryDumper(yaml.SafeDumper):
    """Multi-line text as a literal block and dates unquoted, as people write story files by hand.

    Our loader reads every value as text, so a date needs no quotes to stay a string.
    """


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_StoryDumper.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
_StoryDumper.add_representer(str, _text)


def story_yaml(
    answers: dict[str, Any], settings: dict[str, Any], package: SourcePackage, form: StoryForm
) -> str:
    """The story file for the answers plus the intake's own settings (id, submitted, status,
    licence, submitted_via), in the stories schema's field order."""
    stories = package.table("stories")
    record: dict[str, Any] = {}
    children_written = False

    def put(dotted: str, value: Any) -> None:
        if value is None or value == [] or value == {}:
            return
        *parents, last = dotted.split(".")
        target = record
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value

    def children() -> None:
        for child in package.children("stories"):
            values: dict[str, Any] = {}
            for item in form.fields:
                if item.target.startswith(f"{child.key}."):
                    answer = answers.get(item.target)
                    if isinstance(answer, str) and answer.isdigit():
                        answer = int(answer)
                    if answer not in (None, []):
                        values[item.target.split(".", 1)[1]] = answer
            put(str(child.key), values)

    for spec in stories.fields:
        name = spec["name"]
        if name == "status" and not children_written:  # ratings and tags go before status
            children()
            children_written = True
        if name in settings:
            put(name, settings[name])
        elif name in answers:
            value = answers[name]
            if isinstance(value, str):
                value = _tidy(value) if "\n" in value else value.strip()
            put(name, value)
    if not children_written:
        children()
    return yaml.dump(record, Dumper=_StoryDumper, sort_keys=False, allow_unicode=True, width=80)
