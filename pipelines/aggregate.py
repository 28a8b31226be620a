"""Aggregate the commons with pandas: ratings, distributions, trends, responses and tags."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

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


def _frames(commons: Commons) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    stories = pd.DataFrame(
        {
            "id": pd.Series([s.id for s in commons.stories], dtype="string"),
            "provider": pd.Series([s.provider for s in commons.stories], dtype="string"),
            "published": pd.Series([s.published for s in commons.stories], dtype="bool"),
            "experienced": pd.Series([s.experienced for s in commons.stories], dtype="string"),
            "submitted": pd.to_datetime(
                pd.Series([s.submitted.isoformat() for s in commons.stories], dtype="string")
            ),
        }
    )
    published = {s.id for s in commons.stories if s.published}
    ratings = pd.DataFrame(
        [
            (s.id, s.provider, s.experienced, d, v)
            for s in commons.stories
            if s.id in published
            for d, v in s.ratings.items()
        ],
        columns=["story", "provider", "month", "dimension", "score"],
    ).astype(
        {
            "story": "string",
            "provider": "string",
            "month": "string",
            "dimension": "string",
            "score": "int64",
        }
    )
    tags = pd.DataFrame(
        [
            (s.id, s.provider, kind, t)
            for s in commons.stories
            if s.id in published
            for kind, items in (("good", s.good), ("better", s.better))
            for t in items
        ],
        columns=["story", "provider", "kind", "tag"],
    ).astype("string")
    responses = pd.DataFrame(
        [
            (r.story, r.provider, r.date.isoformat(), r.change_status or "")
            for r in commons.responses
            if r.story in published
        ],
        columns=["story", "provider", "date", "change"],
    ).astype({"story": "string", "provider": "string", "change": "string"})
    responses["date"] = pd.to_datetime(responses["date"])
    return stories, ratings, tags, responses


def _count_map(frame: pd.DataFrame, keys: list[str]) -> dict[Any, int]:
    """Rows per combination of keys, as plain ints."""
    if not len(frame):
        return {}
    return {k: int(v) for k, v in frame.groupby(keys, sort=True).size().items()}


def _mean_count_map(frame: pd.DataFrame, keys: list[str]) -> dict[Any, tuple[float, int]]:
    """The mean score and the number of scores per combination of keys."""
    if not len(frame):
        return {}
    grouped = frame.groupby(keys, sort=True)["score"].agg(["mean", "count"])
    # Whole columns at once: a row at a time (iterrows) builds a Series per group.
    means, counts = grouped["mean"].tolist(), grouped["count"].tolist()
    return {
        k: (float(m), int(n)) for k, m, n in zip(grouped.index.tolist(), means, counts, strict=True)
    }


def _summaries(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame],
    key: str,
    ids: list[str],
    commons: Commons,
) -> dict[str, Summary]:
    """A Summary for each id of the grouping column key, all groups computed at once.

    One grouped pass per measure keeps this linear in the number of stories however many
    providers there are (a pass per provider was quadratic in practice).
    """
    stories, ratings, tags, responses = frames
    min_ratings = commons.instance.min_ratings
    names = {d.id: d.name for d in commons.dimensions}
    tag_names = {t.id: t.name for t in commons.tags}
    published = stories[stories["published"]]
    overall = ratings[ratings["dimension"] == "overall"]

    published_count = _count_map(published, [key])
    withdrawn_count = _count_map(stories[~stories["published"]], [key])
    scores = _count_map(overall, [key, "score"])
    overall_stats = _mean_count_map(overall, [key])
    dimension_stats = _mean_count_map(ratings, [key, "dimension"])
    months: dict[str, list[MonthScore]] = defaultdict(list)
    for (group, month), (mean, n) in _mean_count_map(overall, [key, "month"]).items():
        months[group].append(MonthScore(str(month), round(mean, 2), n))
    shared: dict[str, list[MonthCount]] = defaultdict(list)
    submitted_months = published.assign(shared_month=published["submitted"].dt.strftime("%Y-%m"))
    for (group, month), n in _count_map(submitted_months, [key, "shared_month"]).items():
        shared[group].append(MonthCount(str(month), n))

    first = responses.groupby("story")["date"].min()
    answered = published[published["id"].isin(first.index)]
    responded_count = _count_map(answered, [key])
    median_days: dict[str, float] = {}
    if len(answered):
        waits = answered.assign(
            days=(answered["id"].map(first) - answered["submitted"]).dt.days.astype("float64")
        )
        median_days = {str(k): float(v) for k, v in waits.groupby(key)["days"].median().items()}
    changes = _count_map(responses[responses["change"] != ""], [key, "change"])

    top: dict[tuple[str, str], list[TagCount]] = defaultdict(list)
    tag_counts = _count_map(tags, [key, "kind", "tag"])
    for (group, kind, tag), n in sorted(
        tag_counts.items(), key=lambda x: (x[0][:2], -x[1], x[0][2])
    ):
        if len(top[(group, kind)]) < TOP_TAGS:
            top[(group, kind)].append(TagCount(str(tag), tag_names.get(str(tag), str(tag)), n))

    result = {}
    for group in ids:
        mean, count = overall_stats.get(group, (0.0, 0))
        shown = count >= min_ratings
        dimensions = []
        for dim_id, name in names.items():
            dim_mean, n = dimension_stats.get((group, dim_id), (0.0, 0))
            dimensions.append(
                DimensionScore(
                    dim_id, name, round(dim_mean, 2) if n and n >= min_ratings else None, n
                )
            )
        total = published_count.get(group, 0)
        responded = responded_count.get(group, 0)
        result[group] = Summary(
            stories=total,
            withdrawn=withdrawn_count.get(group, 0),
            ratings=count,
            shown=shown,
            mean=round(mean, 2) if shown and count else None,
            distribution=tuple(scores.get((group, score), 0) for score in SCORES),
            dimensions=tuple(dimensions),
            trend=tuple(months.get(group, ())) if shown else (),
            responded=responded,
            response_rate=round(responded / total, 3) if total else None,
            median_days_to_respond=median_days.get(group),
            good_tags=tuple(top.get((group, "good"), ())),
            better_tags=tuple(top.get((group, "better"), ())),
            changes_planned=changes.get((group, "planned"), 0),
            changes_made=changes.get((group, "made"), 0),
            shared=tuple(shared.get(group, ())),
        )
    return result


def _tag_uses(tags: pd.DataFrame, commons: Commons) -> dict[str, TagUse]:
    counts = tags.groupby(["tag", "kind"]).size() if len(tags) else pd.Series(dtype="int64")
    return {
        t.id: TagUse(
            t.id,
            t.name,
            int(counts.get((t.id, "good"), 0)),
            int(counts.get((t.id, "better"), 0)),
        )
        for t in commons.tags
    }


def aggregate_dataset(commons: Commons) -> Aggregates:
    """Summaries for the whole commons, every provider, kind and area; tag use."""
    stories, ratings, tags, responses = _frames(commons)
    frames = (stories, ratings, tags, responses)
    # Kinds and areas group providers; each frame gets its provider's kind and area, and a
    # constant column groups the whole commons.
    kind_of = {p.id: p.kind for p in commons.providers}
    area_of = {p.id: p.area for p in commons.providers}
    for frame in frames:
        frame["kind_of"] = frame["provider"].map(kind_of).astype("string")
        frame["area_of"] = frame["provider"].map(area_of).astype("string")
        frame["commons"] = pd.Series(["site"] * len(frame), index=frame.index, dtype="string")
    return Aggregates(
        site=_summaries(frames, "commons", ["site"], commons)["site"],
        providers=_summaries(frames, "provider", [p.id for p in commons.providers], commons),
        kinds=_summaries(frames, "kind_of", [k.id for k in commons.kinds], commons),
        areas=_summaries(frames, "area_of", [a.id for a in commons.areas], commons),
        tags=_tag_uses(tags, commons),
    )
