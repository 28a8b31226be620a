"""Aggregate the commons with pandas: ratings, distributions, trends, responses and tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from pipelines.records import Commons

SCORES = (1, 2, 3, 4, 5)


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


def _summary(
    stories: pd.DataFrame,
    ratings: pd.DataFrame,
    tags: pd.DataFrame,
    responses: pd.DataFrame,
    commons: Commons,
    names: dict[str, str],
    tag_names: dict[str, str],
) -> Summary:
    min_ratings = commons.instance.min_ratings
    published = stories[stories["published"]]
    overall = ratings[ratings["dimension"] == "overall"]
    count = len(overall)
    shown = count >= min_ratings
    distribution = tuple(
        int(n) for n in overall["score"].value_counts().reindex(SCORES, fill_value=0)
    )
    by_dimension = ratings.groupby("dimension")["score"].agg(["mean", "count"])
    dimensions = []
    for dim_id, name in names.items():
        if dim_id in by_dimension.index:
            mean, n = by_dimension.loc[dim_id, "mean"], int(by_dimension.loc[dim_id, "count"])
        else:
            mean, n = None, 0
        dimensions.append(
            DimensionScore(
                dim_id,
                name,
                round(float(mean), 2) if n >= min_ratings and mean is not None else None,
                n,
            )
        )
    trend_frame = overall.groupby("month")["score"].agg(["mean", "count"]).sort_index()
    trend = tuple(
        MonthScore(str(m), round(float(r["mean"]), 2), int(r["count"]))
        for m, r in trend_frame.iterrows()
    )
    first = responses.groupby("story")["date"].min()
    responded = int(published["id"].isin(first.index).sum())
    submitted = published.set_index("id")["submitted"]
    days = (first - submitted.reindex(first.index)).dt.days.dropna()
    story_changes = responses[responses["change"] != ""]
    shared_frame = published["submitted"].dt.strftime("%Y-%m").value_counts().sort_index()

    def top(kind: str) -> tuple[TagCount, ...]:
        counts = tags[tags["kind"] == kind]["tag"].value_counts()
        ordered = sorted(((int(n), str(t)) for t, n in counts.items()), key=lambda x: (-x[0], x[1]))
        return tuple(TagCount(t, tag_names.get(t, t), n) for n, t in ordered[:5])

    return Summary(
        stories=len(published),
        withdrawn=int((~stories["published"]).sum()),
        ratings=count,
        shown=shown,
        mean=round(float(overall["score"].mean()), 2) if shown else None,
        distribution=distribution,
        dimensions=tuple(dimensions),
        trend=trend if shown else (),
        responded=responded,
        response_rate=round(responded / len(published), 3) if len(published) else None,
        median_days_to_respond=float(days.median()) if len(days) else None,
        good_tags=top("good"),
        better_tags=top("better"),
        changes_planned=int((story_changes["change"] == "planned").sum()),
        changes_made=int((story_changes["change"] == "made").sum()),
        shared=tuple(MonthCount(str(m), int(n)) for m, n in shared_frame.items()),
    )


def _split(frame: pd.DataFrame, key: str, ids: Iterable[str]) -> dict[str, pd.DataFrame]:
    groups = dict(tuple(frame.groupby(key))) if len(frame) else {}
    return {i: groups.get(i, frame.iloc[0:0]) for i in ids}


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
    names = {d.id: d.name for d in commons.dimensions}
    tag_names = {t.id: t.name for t in commons.tags}

    def summaries(key: str, ids: list[str]) -> dict[str, Summary]:
        parts = [_split(frame, key, ids) for frame in frames]
        return {
            i: _summary(
                parts[0][i], parts[1][i], parts[2][i], parts[3][i], commons, names, tag_names
            )
            for i in ids
        }

    # Kinds and areas group providers; each frame gets its provider's kind and area.
    kind_of = {p.id: p.kind for p in commons.providers}
    area_of = {p.id: p.area for p in commons.providers}
    for frame in frames:
        frame["kind_of"] = frame["provider"].map(kind_of).astype("string")
        frame["area_of"] = frame["provider"].map(area_of).astype("string")
    return Aggregates(
        site=_summary(stories, ratings, tags, responses, commons, names, tag_names),
        providers=summaries("provider", [p.id for p in commons.providers]),
        kinds=summaries("kind_of", [k.id for k in commons.kinds]),
        areas=summaries("area_of", [a.id for a in commons.areas]),
        tags=_tag_uses(tags, commons),
    )
