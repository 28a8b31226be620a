"""Jinja filters for our templates: dates, numbers and plain-text paragraphs, all escaped."""

from __future__ import annotations

import datetime as dt
import re

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


def paragraphs(text: str | None) -> list[list[str]]:
    """Plain text as paragraphs, each a list of its lines (templates escape each line)."""
    if not text:
        return []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return [
        [line.strip() for line in block.split("\n")]
        for block in _BLANK_LINE.split(normalised)
        if block.strip()
    ]


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


FILTERS = {
    "paragraphs": paragraphs,
    "long_date": long_date,
    "month_name": month_name,
    "number": number,
    "percent": percent,
    "plural": plural,
}
