"""Aggregate the commons with pandas: ratings, distributions, trends, responses and tags."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.records import Commons

SCORES = (1, 2, 3, 4, 5)
TOP_TAGS = 5  # the most frequent tags shown of each kind


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    name: str
    mean: float | None  # None below the instance's minimum number of ratings
    count: int


@dataclass(frozen=True)
class MonthScore:
    month: str  # "2026-10"
    mean: float
    count: int


@dataclass(frozen=True)
class MonthCount:
    month: str  # "2026-10"
    count: int


@dataclass(frozen=True)
class TagCount:
    tag: str
    name: str
    count: int


@dataclass(frozen=True)
class Summary:
    """Aggregates over a set of stories: one provider's, or the whole commons'."""

    stories: int
    withdrawn: int
    ratings: int  # stories with an overall rating
    shown: bool  # enough ratings to show means and charts
    mean: float | None
    distribution: tuple[int, ...]  # counts of overall scores 1..5
    dimensions: tuple[DimensionScore, ...]
    trend: tuple[MonthScore, ...]
    responded: int  # published stories with at least one response
    response_rate: float | None
    median_days_to_respond: float | None
    good_tags: tuple[TagCount, ...]
    better_tags: tuple[TagCount, ...]
    changes_planned: int
    changes_made: int
    shared: tuple[MonthCount, ...] = ()  # published stories by the month they were submitted


@dataclass(frozen=True)
class TagUse:
    """How many published stories carry a tag, as good and as could be better."""

    tag: str
    name: str
    good: int
    better: int

    @property
    def stories(self) -> int:
        return self.good + self.better


@dataclass(frozen=True)
class Aggregates:
    site: Summary
    providers: dict[str, Summary] = field(default_factory=dict)
    kinds: dict[str, Summary] = field(default_factory=dict)
    areas: dict[str, Summary] = field(default_factory=dict)
    tags: dict[str, TagUse] = field(default_factory=dict)


@dataclass(frozen=True)
class _Table:
    """The commons as arrays of integer codes: a row per story, rating, tag and response.

    Ratings and tags are those of published stories, responses those to published stories.
    Each code indexes the list of names beside it; months and tags are coded in sorted order,
    so sorting by code sorts by name.
    """

    providers: list[str]  # the commons' providers in order, then any others the data names
    months: list[str]  # "2026-10", sorted
    dimensions: list[str]  # the commons' dimensions in order, then any others the data names
    tags: list[str]  # sorted
    story_provider: np.ndarray
    published: np.ndarray  # bool
    submitted_month: np.ndarray
    experienced_month: np.ndarray
    answered: np.ndarray  # bool: a published story with a response
    days_to_respond: np.ndarray  # from submission to the first response; -1 when none
    rating_story: np.ndarray  # the row of the story the rating belongs to
    rating_dimension: np.ndarray
    rating_score: np.ndarray
    tag_story: np.ndarray
    tag_kind: np.ndarray  # index into KINDS
    tag_code: np.ndarray
    response_provider: np.ndarray
    response_change: np.ndarray  # 0: no change recorded; n: CHANGES[n - 1]


KINDS = ("good", "better")  # of tag
CHANGES = ("planned", "made")


class _Codes:
    """Codes names as they come; finish() renumbers them: first's in order, the rest sorted."""

    def __init__(self, first: Iterable[str] = ()) -> None:
        self.codes: dict[str, int] = {name: code for code, name in enumerate(dict.fromkeys(first))}
        self.fixed = len(self.codes)

    def finish(self, *coded: list[int]) -> tuple[list[str], list[np.ndarray]]:
        """The names in their final order, and each list of codes renumbered to match."""
        names = list(self.codes)
        ordered = names[: self.fixed] + sorted(names[self.fixed :])
        final = {name: code for code, name in enumerate(ordered)}
        renumber = np.array([final[name] for name in names], dtype=np.int64)
        return ordered, [renumber[np.array(codes, dtype=np.int64)] for codes in coded]


def _table(commons: Commons) -> _Table:
    stories = commons.stories
    providers = _Codes(p.id for p in commons.providers)
    months = _Codes()
    dimensions = _Codes(d.id for d in commons.dimensions)
    tags = _Codes()
    provider_code, month_code = providers.codes, months.codes
    dimension_code, tag_code = dimensions.codes, tags.codes
    # One pass over the records, appending plain ints (which the cyclic collector never visits);
    # everything after it is whole-array arithmetic.
    story_provider, published, submitted, submitted_month, experienced_month = [], [], [], [], []
    rating_story, rating_dimension, rating_score = [], [], []
    tag_story, tag_kind, tag_codes = [], [], []
    rows: dict[str, int] = {}
    for row, story in enumerate(stories):
        day = story.submitted
        story_provider.append(provider_code.setdefault(story.provider, len(provider_code)))
        submitted.append(day.toordinal())
        month = f"{day.year:04d}-{day.month:02d}"
        submitted_month.append(month_code.setdefault(month, len(month_code)))
        experienced_month.append(month_code.setdefault(story.experienced, len(month_code)))
        is_published = story.published
        published.append(is_published)
        if not is_published:
            continue
        rows[story.id] = row
        for dimension, score in story.ratings.items():
            rating_story.append(row)
            rating_dimension.append(dimension_code.setdefault(dimension, len(dimension_code)))
            rating_score.append(score)
        for kind, items in enumerate((story.good, story.better)):
            for tag in items:
                tag_story.append(row)
                tag_kind.append(kind)
                tag_codes.append(tag_code.setdefault(tag, len(tag_code)))
    response_story, response_date, response_provider, response_change = [], [], [], []
    change_code = {change: code for code, change in enumerate(CHANGES, start=1)}
    for response in commons.responses:
        row = rows.get(response.story, -1)
        if row < 0:
            continue
        response_story.append(row)
        response_date.append(response.date.toordinal())
        response_provider.append(provider_code.setdefault(response.provider, len(provider_code)))
        response_change.append(change_code.get(response.change_status or "", 0))

    provider_names, (story_provider_codes, response_provider_codes) = providers.finish(
        story_provider, response_provider
    )
    month_names, (submitted_codes, experienced_codes) = months.finish(
        submitted_month, experienced_month
    )
    dimension_names, (dimension_codes,) = dimensions.finish(rating_dimension)
    tag_names, (tag_code_array,) = tags.finish(tag_codes)
    never = np.iinfo(np.int64).max
    first = np.full(len(stories), never, dtype=np.int64)
    np.minimum.at(first, _ints(response_story), _ints(response_date))
    answered = first != never
    return _Table(
        providers=provider_names,
        months=month_names,
        dimensions=dimension_names,
        tags=tag_names,
        story_provider=story_provider_codes,
        published=np.array(published, dtype=bool),
        submitted_month=submitted_codes,
        experienced_month=experienced_codes,
        answered=answered,
        days_to_respond=np.where(answered, first - _ints(submitted), -1),
        rating_story=_ints(rating_story),
        rating_dimension=dimension_codes,
        rating_score=_ints(rating_score),
        tag_story=_ints(tag_story),
        tag_kind=_ints(tag_kind),
        tag_code=tag_code_array,
        response_provider=response_provider_codes,
        response_change=_ints(response_change),
    )


def _ints(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _counts(groups: np.ndarray, values: np.ndarray, size: int, width: int) -> np.ndarray:
    """Rows per (group, value) as a size x width matrix, leaving out those outside it."""
    keep = (groups >= 0) & (values >= 0) & (values < width)
    cells = pd.Series(groups[keep] * width + values[keep], dtype="int64")
    counts = cells.value_counts(sort=False).reindex(range(size * width), fill_value=0)
    return counts.to_numpy(dtype=np.int64).reshape(size, width)


def _means(
    groups: np.ndarray, values: np.ndarray, scores: np.ndarray, size: int, width: int
) -> tuple[list[list[float]], list[list[int]]]:
    """The mean score and the number of scores per (group, value), as nested lists.

    Sums of whole scores are exact in float64, so each mean is the correctly rounded quotient.
    """
    keep = (groups >= 0) & (values >= 0)
    frame = pd.DataFrame(
        {"cell": groups[keep] * width + values[keep], "score": scores[keep].astype(np.float64)}
    )
    totals = (
        frame.groupby("cell", sort=False)["score"]
        .agg(["sum", "count"])
        .reindex(range(size * width), fill_value=0)
    )
    sums = totals["sum"].to_numpy(dtype=np.float64)
    counts = totals["count"].to_numpy(dtype=np.int64)
    with np.errstate(invalid="ignore"):  # 0 / 0 where a group has no scores; never shown
        means = sums / counts
    return means.reshape(size, width).tolist(), counts.reshape(size, width).tolist()


def _medians(groups: np.ndarray, values: np.ndarray, size: int) -> list[float | None]:
    """The median of each group's values (the mean of the middle two when even); None if empty."""
    keep = groups >= 0
    frame = pd.DataFrame({"group": groups[keep], "value": values[keep].astype(np.float64)})
    medians = frame.groupby("group", sort=False)["value"].median().reindex(range(size))
    return [None if pd.isna(m) else float(m) for m in medians.tolist()]


def _summaries(
    table: _Table, group_of: Callable[[str], str | None], ids: list[str], commons: Commons
) -> dict[str, Summary]:
    """A Summary for each of ids, grouping the providers with group_of (provider id -> id).

    Each measure is one bincount over the whole table, so this stays linear in the number of
    stories however many groups there are.
    """
    min_ratings = commons.instance.min_ratings
    names = {d.id: d.name for d in commons.dimensions}
    dimension_codes = [table.dimensions.index(d) for d in names]
    known_tags = {t.id: t.name for t in commons.tags}
    tag_names = [known_tags.get(tag, tag) for tag in table.tags]
    size = len(ids)
    code = {group: i for i, group in reversed(list(enumerate(ids)))}
    provider_group = _ints([code.get(group_of(p) or "", -1) for p in table.providers])
    story_group = provider_group[table.story_provider]
    published = np.where(table.published, story_group, -1)
    withdrawn = np.where(table.published, -1, story_group)
    rating_group = story_group[table.rating_story]
    is_overall = table.rating_dimension == (
        table.dimensions.index("overall") if "overall" in table.dimensions else -1
    )
    overall = np.where(is_overall, rating_group, -1)
    months = len(table.months)

    stories = _counts(published, np.zeros_like(published), size, 1)[:, 0].tolist()
    withdrawn_counts = _counts(withdrawn, np.zeros_like(withdrawn), size, 1)[:, 0].tolist()
    shared = _counts(published, table.submitted_month, size, months).tolist()
    overall_means, overall_counts = _means(
        overall, np.zeros_like(overall), table.rating_score, size, 1
    )
    distribution = _counts(overall, table.rating_score - SCORES[0], size, len(SCORES)).tolist()
    dimension_means, dimension_counts = _means(
        rating_group, table.rating_dimension, table.rating_score, size, len(table.dimensions)
    )
    month_means, month_counts = _means(
        overall, table.experienced_month[table.rating_story], table.rating_score, size, months
    )
    answered = np.where(table.answered, story_group, -1)
    responded_counts = _counts(answered, np.zeros_like(answered), size, 1)[:, 0].tolist()
    median_days = _medians(answered, table.days_to_respond, size)
    changes = _counts(
        provider_group[table.response_provider], table.response_change, size, len(CHANGES) + 1
    ).tolist()
    tag_counts = _counts(
        story_group[table.tag_story] * len(KINDS) + table.tag_kind,
        table.tag_code,
        size * len(KINDS),
        len(table.tags),
    )
    # The most used first, ties in tag order: the codes are in tag order and the sort is stable.
    top_codes = np.argsort(-tag_counts, axis=1, kind="stable")[:, :TOP_TAGS]
    top_counts = np.take_along_axis(tag_counts, top_codes, axis=1).tolist()
    top = [
        tuple(TagCount(table.tags[t], tag_names[t], n) for t, n in zip(ts, ns, strict=True) if n)
        for ts, ns in zip(top_codes.tolist(), top_counts, strict=True)
    ]

    result = {}
    for group in ids:
        i = code[group]
        count = overall_counts[i][0]
        shown = count >= min_ratings
        dimensions = []
        for (dim_id, name), d in zip(names.items(), dimension_codes, strict=True):
            n = dimension_counts[i][d]
            mean = round(dimension_means[i][d], 2) if n and n >= min_ratings else None
            dimensions.append(DimensionScore(dim_id, name, mean, n))
        trend = zip(table.months, month_means[i], month_counts[i], strict=True)
        total = stories[i]
        responded = responded_counts[i]
        result[group] = Summary(
            stories=total,
            withdrawn=withdrawn_counts[i],
            ratings=count,
            shown=shown,
            mean=round(overall_means[i][0], 2) if shown and count else None,
            distribution=tuple(distribution[i]),
            dimensions=tuple(dimensions),
            trend=tuple(MonthScore(m, round(v, 2), n) for m, v, n in trend if n) if shown else (),
            responded=responded,
            response_rate=round(responded / total, 3) if total else None,
            median_days_to_respond=median_days[i],
            good_tags=top[i * len(KINDS) + KINDS.index("good")],
            better_tags=top[i * len(KINDS) + KINDS.index("better")],
            changes_planned=changes[i][1 + CHANGES.index("planned")],
            changes_made=changes[i][1 + CHANGES.index("made")],
            shared=tuple(
                MonthCount(m, n) for m, n in zip(table.months, shared[i], strict=True) if n
            ),
        )
    return result


def _tag_uses(table: _Table, commons: Commons) -> dict[str, TagUse]:
    counts = _counts(table.tag_kind, table.tag_code, len(KINDS), len(table.tags)).tolist()
    code = {tag: i for i, tag in enumerate(table.tags)}
    good, better = KINDS.index("good"), KINDS.index("better")
    return {
        t.id: TagUse(
            t.id,
            t.name,
            counts[good][code[t.id]] if t.id in code else 0,
            counts[better][code[t.id]] if t.id in code else 0,
        )
        for t in commons.tags
    }


def aggregate_dataset(commons: Commons) -> Aggregates:
    """Summaries for the whole commons, every provider, kind and area; tag use."""
    table = _table(commons)
    kind_of = {p.id: p.kind for p in commons.providers}
    area_of = {p.id: p.area for p in commons.providers}
    return Aggregates(
        site=_summaries(table, lambda _: "site", ["site"], commons)["site"],
        providers=_summaries(table, lambda p: p, [p.id for p in commons.providers], commons),
        kinds=_summaries(table, kind_of.get, [k.id for k in commons.kinds], commons),
        areas=_summaries(table, area_of.get, [a.id for a in commons.areas], commons),
        tags=_tag_uses(table, commons),
    )
