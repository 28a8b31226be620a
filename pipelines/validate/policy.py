"""Rules of an instance's policy: dates, story length, duplicate stories, accepted findings.

Limits come from instance.yaml (min_words, max_words, max_experience_age_days). Duplicates are
found without comparing every pair: exact ones by a digest of the normalised text, near ones
by a bottom-k MinHash sketch of each story's word shingles and an index of sketch values, so
the work grows with the number of stories, not its square.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from pipelines.problems import Problem, quote
from pipelines.validate.codes import code
from pipelines.validate.rules import Context, problem, rule
from pipelines.validate.text import word_count

SHINGLE_WORDS = 4
SKETCH_SIZE = 32
# Two stories whose estimated Jaccard similarity of word shingles is at least this are
# near-duplicates.
NEAR_DUPLICATE_SIMILARITY = 0.7
# A sketch value shared by more stories than this is a common phrase, not a sign of copying.
COMMON_SHINGLE_STORIES = 50
# Candidates share at least this many of their sketch values.
CANDIDATE_SHARED = 4
_WORD = re.compile(r"\w+")


@rule("date-in-future")
def future_dates(ctx: Context) -> Iterator[Problem]:
    """No date or month after today, in any table."""
    today = ctx.today
    this_month = (today.year, today.month)
    for table in ctx.dataset.package.tables:
        fields = [f["name"] for f in table.fields if f.get("type") in ("date", "yearmonth")]
        if not fields:
            continue
        for typed, written, location in ctx.rows(table.name):
            for name in fields:
                value = typed.get(name)
                if value is None:
                    continue
                later = value > today if isinstance(value, dt.date) else tuple(value) > this_month
                if later:
                    yield problem(
                        location,
                        name,
                        "date-in-future",
                        f"a date no later than today, {today:%Y-%m-%d}",
                        quote(written.get(name)),
                        "correct the date: it cannot be in the future.",
                    )


@rule("experience-too-old")
def experience_age(ctx: Context) -> Iterator[Problem]:
    """An experience happened at most max_experience_age_days before the story was submitted."""
    if ctx.instance is None:
        return
    limit = ctx.instance.max_experience_age_days
    for typed, written, location in ctx.rows("stories"):
        experienced, submitted = typed.get("experienced"), typed.get("submitted")
        if not experienced or not submitted:
            continue
        year, month = tuple(experienced)
        month_end = dt.date(year, month, calendar.monthrange(year, month)[1])
        if (submitted - month_end).days > limit:
            earliest = submitted - dt.timedelta(days=limit)
            yield problem(
                location,
                "experienced",
                "experience-too-old",
                f"an experience at most {limit} days before the submission, so {earliest:%Y-%m} or later",
                quote(written.get("experienced")),
                "check the month under experienced; if it is right, the story is too old for this commons.",
            )


@rule("too-few-words", "too-many-words")
def story_length(ctx: Context) -> Iterator[Problem]:
    """A published story has between min_words and max_words words."""
    if ctx.instance is None:
        return
    low, high = ctx.instance.min_words, ctx.instance.max_words
    for typed, written, location in ctx.rows("stories"):
        text = written.get("story")
        if not text or typed.get("status") != "published":
            continue
        count = word_count(text)
        if count < low:
            yield problem(
                location,
                "story",
                "too-few-words",
                f"at least {low} words",
                f"{count} words",
                f"write at least {low} words about what happened.",
            )
        elif count > high:
            yield problem(
                location,
                "story",
                "too-many-words",
                f"at most {high} words",
                f"{count} words",
                f"shorten the story by {count - high} words, or split it into separate stories.",
            )


def _normalised_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def sketch(words: list[str]) -> tuple[int, ...]:
    """The SKETCH_SIZE smallest CRC-32 values of the text's word shingles (deterministic)."""
    if len(words) < SHINGLE_WORDS:
        shingles = {" ".join(words)}
    else:
        shingles = {
            " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
        }
    return tuple(sorted({zlib.crc32(s.encode()) for s in shingles})[:SKETCH_SIZE])


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The bottom-k estimate of the Jaccard similarity of two shingle sets."""
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for value in union if value in both) / len(union) if union else 0.0


@rule("duplicate-story", "near-duplicate-story")
def duplicate_stories(ctx: Context) -> Iterator[Problem]:
    """A story's text is not another's (exactly: an error; nearly: a warning for a moderator)."""
    stories = sorted(
        (
            (written.get("id") or "", written.get("story") or "", location)
            for typed, written, location in ctx.rows("stories")
            if typed.get("status") == "published" and written.get("story")
        ),
        key=lambda item: item[0],
    )
    first: dict[bytes, tuple[str, Any]] = {}
    sketches: list[tuple[str, tuple[int, ...], Any]] = []
    index: dict[int, list[int]] = defaultdict(list)
    for story_id, text, location in stories:
        words = _normalised_words(text)
        digest = hashlib.sha256(" ".join(words).encode()).digest()
        if digest in first:
            other_id, other = first[digest]
            yield problem(
                location,
                "story",
                "duplicate-story",
                f"a story not already in the commons (the same text is in {other.path})",
                f"the same text as {quote(other_id)}",
                f"remove this file if it repeats {other_id}.",
            )
            continue
        first[digest] = (story_id, location)
        own = sketch(words)
        shared: Counter[int] = Counter()
        for value in own:
            postings = index[value]
            if len(postings) <= COMMON_SHINGLE_STORIES:
                shared.update(postings)
        best = max(
            (
                (similarity(own, sketches[other][1]), sketches[other][0], other)
                for other, count in shared.items()
                if count >= CANDIDATE_SHARED
            ),
            default=None,
        )
        if best is not None and best[0] >= NEAR_DUPLICATE_SIMILARITY:
            _score, other_id, other = best
            found = problem(
                location,
                "story",
                "near-duplicate-story",
                f"a story of its own (about {round(best[0] * 100)}% of it is the same as {sketches[other][2].path})",
                f"nearly the same text as {quote(other_id)}",
                f"remove this file if it repeats {other_id}; otherwise nothing needs to change.",
            )
            if not ctx.acceptance.accepts(found, story_id, "story", other_id):
                yield found
        position = len(sketches)
        sketches.append((story_id, own, location))
        for value in own:
            index[value].append(position)


@rule("unused-accepted-finding", last=True)
def unused_accepted_findings(ctx: Context) -> Iterator[Problem]:
    """Every row of accepted-findings.csv still accepts a finding (runs after every other rule)."""
    if ctx.changes is not None:
        return  # in --since mode most records are not read, so most rows would look unused
    for key, location in sorted(ctx.acceptance.rows.items(), key=lambda item: item[1].line):
        if key not in ctx.acceptance.used:
            record_id, field_name, problem_code, text = key
            yield Problem(
                location.path,
                location.line,
                "text",
                "unused-accepted-finding",
                f"a {problem_code} finding in {field_name} of {record_id}",
                f"no such finding of {quote(text)}",
                "remove the row, or correct its record, field, code or text.",
                code("unused-accepted-finding").severity,
            )
