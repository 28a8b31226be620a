"""aggregate_dataset against a plain-Python reference: same values, same floats, same order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.aggregate import (
    SCORES,
    TOP_TAGS,
    Aggregates,
    DimensionScore,
    MonthCount,
    MonthScore,
    Summary,
    TagCount,
    TagUse,
    aggregate_dataset,
)
from pipelines.demo_data import write_demo_data
from pipelines.load import load_dataset
from pipelines.records import Commons, Response, Story
from pipelines.validate import validate_dataset
from tests.conftest import DATA, SAMPLE, make_instance


def reference_summary(commons: Commons, members: set[str] | None) -> Summary:
    """The Summary of the members' stories (None: everyone's), worked out story by story."""

    def member(provider: str) -> bool:
        return members is None or provider in members

    min_ratings = commons.instance.min_ratings
    mine = [s for s in commons.stories if member(s.provider)]
    published = [s for s in mine if s.published]
    published_ids = {s.id for s in commons.stories if s.published}
    overall = [s.ratings["overall"] for s in published if "overall" in s.ratings]
    shown = len(overall) >= min_ratings

    def mean(scores: list[int]) -> float:
        return sum(scores) / len(scores)

    dimensions = []
    for dimension in {d.id: d.name for d in commons.dimensions}.items():
        scores = [s.ratings[dimension[0]] for s in published if dimension[0] in s.ratings]
        enough = bool(scores) and len(scores) >= min_ratings
        dimensions.append(
            DimensionScore(*dimension, round(mean(scores), 2) if enough else None, len(scores))
        )
    by_month: dict[str, list[int]] = {}
    for story in published:
        if "overall" in story.ratings:
            by_month.setdefault(story.experienced, []).append(story.ratings["overall"])
    first: dict[str, dt.date] = {}
    for response in commons.responses:
        if response.story in published_ids:
            first[response.story] = min(first.get(response.story, response.date), response.date)
    waits = [(first[s.id] - s.submitted).days for s in published if s.id in first]
    changes = Counter(
        r.change_status
        for r in commons.responses
        if member(r.provider) and r.story in published_ids and r.change_status
    )
    names = {t.id: t.name for t in commons.tags}

    def top(kind: str) -> tuple[TagCount, ...]:
        counts = Counter(t for s in published for t in getattr(s, kind))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_TAGS]
        return tuple(TagCount(tag, names.get(tag, tag), n) for tag, n in ranked)

    shared = Counter(s.submitted.strftime("%Y-%m") for s in published)
    return Summary(
        stories=len(published),
        withdrawn=len(mine) - len(published),
        ratings=len(overall),
        shown=shown,
        mean=round(mean(overall), 2) if shown and overall else None,
        distribution=tuple(overall.count(score) for score in SCORES),
        dimensions=tuple(dimensions),
        trend=tuple(
            MonthScore(month, round(mean(scores), 2), len(scores))
            for month, scores in sorted(by_month.items())
        )
        if shown
        else (),
        responded=len(waits),
        response_rate=round(len(waits) / len(published), 3) if published else None,
        median_days_to_respond=float(statistics.median(waits)) if waits else None,
        good_tags=top("good"),
        better_tags=top("better"),
        changes_planned=changes["planned"],
        changes_made=changes["made"],
        shared=tuple(MonthCount(month, n) for month, n in sorted(shared.items())),
    )


def reference_aggregates(commons: Commons) -> Aggregates:
    kind_of = {p.id: p.kind for p in commons.providers}
    area_of = {p.id: p.area for p in commons.providers}
    published = [s for s in commons.stories if s.published]
    return Aggregates(
        site=reference_summary(commons, None),
        providers={p.id: reference_summary(commons, {p.id}) for p in commons.providers},
        kinds={
            k.id: reference_summary(commons, {p for p, kind in kind_of.items() if kind == k.id})
            for k in commons.kinds
        },
        areas={
            a.id: reference_summary(commons, {p for p, area in area_of.items() if area == a.id})
            for a in commons.areas
        },
        tags={
            t.id: TagUse(
                t.id,
                t.name,
                sum(t.id in s.good for s in published),
                sum(t.id in s.better for s in published),
            )
            for t in commons.tags
        },
    )


def assert_same(actual: Aggregates, expected: Aggregates) -> None:
    """Equal values (floats compared exactly) in the same order, key by key."""
    assert actual.site == expected.site
    for group in ("providers", "kinds", "areas", "tags"):
        assert list(getattr(actual, group).items()) == list(getattr(expected, group).items())


def commons_of(data: Path) -> Commons:
    commons = validate_dataset(load_dataset(data)).commons
    assert commons is not None
    return commons


@pytest.fixture(scope="module")
def sample_commons(tmp_path_factory: pytest.TempPathFactory) -> Commons:
    return commons_of(make_instance(tmp_path_factory.mktemp("aggregate") / "sample", SAMPLE))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_data_matches_the_reference(tmp_path: Path, seed: int) -> None:
    data = tmp_path / "data"
    write_demo_data(data, stories=300, providers=9, seed=seed, source=DATA)
    commons = commons_of(data)
    assert_same(aggregate_dataset(commons), reference_aggregates(commons))


def test_the_demo_instance_matches_the_reference() -> None:
    commons = commons_of(DATA)
    assert_same(aggregate_dataset(commons), reference_aggregates(commons))


MONTHS = ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03")
START = dt.date(2025, 11, 1)


@st.composite
def generated_commons(draw: st.DrawFn, sample: Commons) -> Commons:
    """The sample's providers and vocabularies with drawn stories, responses and threshold."""
    providers = [p.id for p in sample.providers]
    dimensions = [d.id for d in sample.dimensions]
    # A tag outside the vocabulary too: the aggregates name it by its id.
    tags = [t.id for t in sample.tags] + ["not-in-the-vocabulary"]
    stories = []
    for number in range(draw(st.integers(0, 40))):
        rated = draw(st.lists(st.sampled_from(dimensions), unique=True))
        stories.append(
            Story(
                id=f"s{number}",
                provider=draw(st.sampled_from(providers)),
                title="A story",
                experienced=draw(st.sampled_from(MONTHS)),
                submitted=START + dt.timedelta(days=draw(st.integers(0, 150))),
                author_pseudonym="Sam",
                author_role="patient",
                status=draw(st.sampled_from(["published", "published", "withdrawn"])),
                licence="CC-BY-4.0",
                consent=True,
                path=f"stories/s{number}.yaml",
                ratings={d: draw(st.sampled_from(SCORES)) for d in rated},
                good=tuple(draw(st.lists(st.sampled_from(tags), unique=True, max_size=4))),
                better=tuple(draw(st.lists(st.sampled_from(tags), unique=True, max_size=4))),
            )
        )
    responses = []
    if stories:
        for number in range(draw(st.integers(0, 30))):
            story = draw(st.sampled_from(stories))
            responses.append(
                Response(
                    id=f"r{number}",
                    story=story.id,
                    # Usually the story's provider; a response's own provider counts its changes.
                    provider=draw(st.sampled_from([story.provider, story.provider, *providers])),
                    responder="someone",
                    date=story.submitted + dt.timedelta(days=draw(st.integers(0, 90))),
                    text="Thank you.",
                    path=f"responses/r{number}.yaml",
                    change_status=draw(st.sampled_from([None, "planned", "made"])),
                )
            )
    instance = dataclasses.replace(sample.instance, min_ratings=draw(st.integers(0, 4)))
    return dataclasses.replace(
        sample, instance=instance, stories=tuple(stories), responses=tuple(responses)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_commons_match_the_reference(
    sample_commons: Commons, data: st.DataObject
) -> None:
    commons = data.draw(generated_commons(sample_commons))
    assert_same(aggregate_dataset(commons), reference_aggregates(commons))
