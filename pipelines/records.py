"""Typed records of the commons, built from validated rows.

Attribute names are the schema's field names with dots as underscores (author.pseudonym
becomes author_pseudonym); a test keeps them in step with data/schemas.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")


def attribute(name: str) -> str:
    """The record attribute for a schema field name."""
    return name.replace(".", "_")


def plain(value: Any) -> Any:
    """A typed cell as a plain Python value: yearmonth as "2026-10", Decimal as float."""
    if value is None or type(value) is str:  # most cells: answered before any isinstance
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]:04d}-{value[1]:02d}"
    return value


@functools.cache
def _attributes(cls: Any, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The (row key, attribute) pairs of a row's keys that cls has: worked out once per shape."""
    names = {f.name for f in dataclasses.fields(cls)}
    return tuple((key, attribute(key)) for key in keys if attribute(key) in names)


def from_row(cls: type[T], row: dict[str, Any], **extra: Any) -> T:
    """Build a record from a typed row; attributes missing from the row stay at their default."""
    values = {name: plain(row[key]) for key, name in _attributes(cls, tuple(row))}  # type: ignore[arg-type]
    return cls(**values, **extra)


@dataclass(frozen=True)
class Instance:
    title: str
    place: str
    fictional: bool
    description: str
    language: str
    licence: str
    licence_title: str
    licence_url: str
    site_url: str
    repository: str
    branch: str
    min_ratings: int
    min_words: int
    max_words: int
    max_experience_age_days: int
    max_file_bytes: int
    stories_per_page: int
    intake_email: str | None = None
    intake_repository: str | None = None
    directory_licence: str | None = None
    directory_licence_title: str | None = None
    directory_licence_url: str | None = None


@dataclass(frozen=True)
class Term:
    """An entry of a vocabulary: an area, a provider kind or a tag."""

    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    question: str


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    kind: str
    area: str
    part_of: str | None = None
    address: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    website: str | None = None
    identifier: str | None = None


@dataclass(frozen=True)
class Responder:
    provider: str
    login: str
    name: str


@dataclass(frozen=True)
class Story:
    id: str
    provider: str
    title: str
    experienced: str  # "2026-10"
    submitted: dt.date
    author_pseudonym: str
    author_role: str
    status: str
    licence: str
    consent: bool
    path: str
    service: str | None = None
    story: str | None = None
    submitted_via: str | None = None  # None means pull-request, the default
    ratings: dict[str, int] = field(default_factory=dict)
    good: tuple[str, ...] = ()
    better: tuple[str, ...] = ()
    confirms: tuple[str, ...] = ()

    @property
    def published(self) -> bool:
        return self.status == "published"


@dataclass(frozen=True)
class Response:
    id: str
    story: str
    provider: str
    responder: str
    date: dt.date
    text: str
    path: str
    change_status: str | None = None
    change_summary: str | None = None


@dataclass(frozen=True)
class ModerationEntry:
    date: dt.date
    story: str
    action: str
    reason: str
    moderator: str
    note: str | None = None


@dataclass(frozen=True)
class Commons:
    """The whole validated commons: every record, sorted by id."""

    instance: Instance
    areas: tuple[Term, ...]
    kinds: tuple[Term, ...]
    dimensions: tuple[Dimension, ...]
    tags: tuple[Term, ...]
    providers: tuple[Provider, ...]
    responders: tuple[Responder, ...]
    stories: tuple[Story, ...]
    responses: tuple[Response, ...]
    moderation: tuple[ModerationEntry, ...]
