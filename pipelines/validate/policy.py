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
import string
import zlib
from collections import Counter
from collections.abc import Iterator
from itertools import chain

from pipelines.problems import Problem, quote
from pipelines.validate.codes import code
from pipelines.validate.parallel import map_in_order
from pipelines.validate.perfile import derived_values, fingerprint_of, word_count_of
from pipelines.validate.rules import Context, problem, rule
from pipelines.validate.text import word_count

SHINGLE_WORDS = 4
SKETCH_SIZE = 16
# Two stories whose estimated Jaccard similarity of word shingles is at least this are
# near-duplicates.
NEAR_DUPLICATE_SIMILARITY = 0.7
# A sketch value shared by more stories than this is a common phrase, not a sign of copying.
COMMON_SHINGLE_STORIES = 20
# Only the smallest INDEXED values of each sketch are indexed; candidates share at least
# CANDIDATE_SHARED of them, and are then compared on the whole sketch.
INDEXED = 8
CANDIDATE_SHARED = 2


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
    derived = derived_values(ctx.dataset, "stories")
    counts = (
        [word_count_of(values) for values in derived]
        if derived is not None
        else [None] * len(ctx.dataset.tables["stories"].rows)
    )
    for (typed, written, location), counted in zip(ctx.rows("stories"), counts, strict=False):
        text = written.get("story")
        if not text or typed.get("status") != "published":
            continue
        count = word_count(text) if counted is None else counted
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


# Punctuation becomes a space, so "kind." and "kind" are one word (str.translate runs in C).
_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’–—…", " "))


def normalised_words(text: str) -> list[str]:
    """Lower-case words without punctuation: what two copies of a story have in common."""
    return text.lower().translate(_PUNCTUATION).split()


def sketch(words: list[str]) -> tuple[int, ...]:
    """The SKETCH_SIZE smallest hashes of the text's shingles of SHINGLE_WORDS words.

    A shingle's hash is that of the tuple of its words' CRC-32s: integers hash the same in
    every run (unlike strings), so the sketch, and the report, are deterministic. Every step
    is a builtin mapped over the words, so no Python code runs per word.
    """
    return _sketch_of(list(map(zlib.crc32, map(str.encode, words))))


def _sketch_of(ids: list[int]) -> tuple[int, ...]:
    """sketch, from the words' CRC-32s."""
    if len(ids) < SHINGLE_WORDS:
        return (hash(tuple(ids)),)
    shingles = set(map(hash, zip(*(ids[i:] for i in range(SHINGLE_WORDS)), strict=False)))
    return tuple(sorted(shingles)[:SKETCH_SIZE])


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The bottom-k estimate of the Jaccard similarity of two shingle sets."""
    union = sorted(set(a) | set(b))[:SKETCH_SIZE]
    both = set(a) & set(b)
    return sum(1 for value in union if value in both) / len(union) if union else 0.0


# For ASCII text, the same normalisation on bytes (several times faster): string.punctuation
# is ASCII, and bytes.split() splits where str.split() does except at four control
# characters, which send a text to the str path.
_ASCII_PUNCTUATION = bytes.maketrans(string.punctuation.encode(), b" " * len(string.punctuation))
_SPLIT_ONLY_AS_STR = re.compile(r"[\x1c-\x1f]")


def fingerprint(text: str) -> tuple[bytes, tuple[int, ...]]:
    """A digest of the normalised text (exact duplicates) and its sketch (near ones)."""
    if text.isascii() and not _SPLIT_ONLY_AS_STR.search(text):
        words = text.encode().lower().translate(_ASCII_PUNCTUATION).split()
        return hashlib.sha256(b" ".join(words)).digest(), _sketch_of(list(map(zlib.crc32, words)))
    words_text = normalised_words(text)
    return hashlib.sha256(" ".join(words_text).encode()).digest(), sketch(words_text)


@rule("duplicate-story", "near-duplicate-story")
def duplicate_stories(ctx: Context) -> Iterator[Problem]:
    """A story's text is not another's (exactly: an error; nearly: a warning for a moderator).

    Each story is compared with those before it by id; in --since mode, the stories read are
    also compared with every published story that was not read (ctx.unread).
    """
    derived = derived_values(ctx.dataset, "stories")
    marks = (
        [fingerprint_of(values) for values in derived]
        if derived is not None
        else [None] * len(ctx.dataset.tables["stories"].rows)
    )
    stories = sorted(
        (
            (written.get("id") or "", written.get("story") or "", location, mark)
            for (typed, written, location), mark in zip(ctx.rows("stories"), marks, strict=False)
            if typed.get("status") == "published" and written.get("story")
        ),
        key=lambda item: item[0],
    )
    first: dict[bytes, tuple[str, str]] = {}  # digest: the id and path of its first story
    sketches: list[tuple[str, tuple[int, ...], str]] = []  # id, sketch, path
    index: dict[int, list[int]] = {}
    # Fingerprints worked out where the files were read, and here the others.
    worked_out = iter(
        map_in_order(fingerprint, [text for _id, text, _location, mark in stories if mark is None])
    )
    fingerprints = [next(worked_out) if mark is None else mark for *_rest, mark in stories]
    if ctx.unread is not None:
        read = {location.path for _id, _text, location, _mark in stories}
        # Only the sketch values of the stories read are ever looked up.
        wanted = {value for _digest, own in fingerprints for value in own[:INDEXED]}
        for known in sorted(ctx.unread, key=lambda known: known.story_id):
            if known.path in read or known.digest in first:
                continue
            first[known.digest] = (known.story_id, known.path)
            position = len(sketches)
            sketches.append((known.story_id, known.sketch, known.path))
            for value in known.sketch[:INDEXED]:
                if value in wanted:
                    index.setdefault(value, []).append(position)
    for (story_id, _text, location, _mark), (digest, own) in zip(
        stories, fingerprints, strict=True
    ):
        if digest in first:
            other_id, other_path = first[digest]
            yield problem(
                location,
                "story",
                "duplicate-story",
                f"a story not already in the commons (the same text is in {other_path})",
                f"the same text as {quote(other_id)}",
                f"remove this file if it repeats {other_id}.",
            )
            continue
        first[digest] = (story_id, location.path)
        lists = [
            postings
            for postings in map(index.get, own[:INDEXED])
            if postings and len(postings) <= COMMON_SHINGLE_STORIES
        ]
        # A story is in a posting list at most once (a sketch's values differ): a candidate
        # needs CANDIDATE_SHARED lists, and most stories have fewer (no Counter, no max).
        best = None
        if len(lists) >= CANDIDATE_SHARED:
            # One Counter over every posting list at once: counting runs in C.
            shared = Counter(chain.from_iterable(lists))
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
                f"a story of its own (about {round(best[0] * 100)}% of it is the same as {sketches[other][2]})",
                f"nearly the same text as {quote(other_id)}",
                f"remove this file if it repeats {other_id}; otherwise nothing needs to change.",
            )
            if not ctx.acceptance.accepts(found, story_id, "story", other_id):
                yield found
        position = len(sketches)
        sketches.append((story_id, own, location.path))
        for value in own[:INDEXED]:
            index.setdefault(value, []).append(position)


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
