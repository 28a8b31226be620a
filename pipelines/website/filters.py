"""Jinja filters for our templates: dates, numbers and plain-text paragraphs, all escaped."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from jinja2 import Environment, pass_environment
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from pipelines.website.jsonld import provider_ld, story_ld

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n+")
_LINE_BREAK = "<br>\n"


def _blocks(text: str | None) -> list[str]:
    """Plain text's paragraphs as written: blocks between blank lines, none of them blank."""
    if not text:
        return []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [block for block in _BLANK_LINE.split(normalised) if block.strip()]


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.split("\n")]


def paragraphs(text: str | None) -> list[list[str]]:
    """Plain text as paragraphs, each a list of its lines (templates escape each line)."""
    return [_lines(block) for block in _blocks(text)]


def text_html(text: str | None) -> Markup:
    """Plain text as HTML: a <p> a paragraph, a <br> between its lines, every line escaped."""
    return Markup(
        "".join(f"<p>{_LINE_BREAK.join(map(escape, lines))}</p>\n" for lines in paragraphs(text))
    )


@pass_environment
def excerpt(env: Environment, text: str | None, length: int = 220) -> str:
    """The first paragraph of plain text on one line, truncated as Jinja's truncate does."""
    blocks = _blocks(text)
    return do_truncate(env, " ".join(_lines(blocks[0])), length) if blocks else ""


def long_date(value: dt.date | None) -> str:
    """14 September 2026."""
    if value is None:
        return ""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def month_name(value: str | None) -> str:
    """ "2026-10" as October 2026."""
    if not value:
        return ""
    year, month = value.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def number(value: float | None, places: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:.{places}f}"


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{round(value * 100)}%"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


# Inside <script>, only "</script" (or "<!--") ends the element early; escaping every <, > and &
# as a JSON \u escape makes that impossible whatever contributors write. U+2028 and U+2029 are
# escaped too, for older JavaScript parsers.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_UNSAFE = re.compile("[<>&\u2028\u2029]")


def script_json(value: Any) -> Markup:
    """JSON to place inside a <script> element: sorted, and unable to end the element."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Markup(_SCRIPT_UNSAFE.sub(lambda m: _SCRIPT_ESCAPES[m.group()], text))


def web_address(value: str | None) -> str | None:
    """The address if it is an http or https URL, else None: never a javascript: link."""
    if value and value.strip().lower().startswith(("https://", "http://")):
        return value.strip()
    return None


def bar_width(value: float | int | None, largest: float | int | None) -> str:
    """A CSS width for a bar drawn without JavaScript: "40%"."""
    if not value or not largest:
        return "0%"
    return f"{round(100 * float(value) / float(largest))}%"


FILTERS = {
    "paragraphs": paragraphs,
    "text_html": text_html,
    "excerpt": excerpt,
    "long_date": long_date,
    "month_name": month_name,
    "number": number,
    "percent": percent,
    "plural": plural,
    "script_json": script_json,
    "bar_width": bar_width,
    "web_address": web_address,
    "provider_ld": provider_ld,
    "story_ld": story_ld,
}
