from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipelines.aggregate import Aggregates, MonthCount, TagUse, aggregate_dataset
from pipelines.load import load_dataset
from pipelines.records import Commons
from pipelines.validate import validate_dataset


def commons_of(sample: Path) -> Commons:
    commons = validate_dataset(load_dataset(sample)).commons
    assert commons is not None
    return commons


@pytest.fixture
def aggregates(sample: Path) -> Aggregates:
    return aggregate_dataset(commons_of(sample))


def test_provider_summaries(aggregates: Aggregates) -> None:
    rows = {
        provider: (s.stories, s.ratings, s.shown, s.mean, s.distribution)
        for provider, s in aggregates.providers.items()
    }
    assert rows == {
        "brook-surgery": (3, 3, True, 3.33, (0, 1, 1, 0, 1)),
        "hill-ward": (3, 3, True, 4.33, (0, 0, 0, 2, 1)),
        "town-library": (1, 0, False, None, (0, 0, 0, 0, 0)),
    }
    brook = aggregates.providers["brook-surgery"]
    assert (brook.responded, brook.response_rate, brook.median_days_to_respond) == (1, 0.333, 2.0)
    assert (brook.changes_planned, brook.changes_made) == (1, 0)
    assert [(t.tag, t.count) for t in brook.good_tags] == [("booking", 1), ("staff-attitude", 1)]


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        (
            "kinds",
            {
                "council-service": (1, None),
                "gp-practice": (3, 3.33),
                "hospital-department": (3, 4.33),
            },
        ),
        ("areas", {"centre": (3, 3.33), "north": (3, 4.33), "south": (1, None)}),
    ],
)
def test_kind_and_area_summaries(
    aggregates: Aggregates, group: str, expected: dict[str, tuple[int, float | None]]
) -> None:
    summaries = getattr(aggregates, group)
    assert {k: (s.stories, s.mean) for k, s in summaries.items()} == expected


def test_tag_uses_count_published_stories(aggregates: Aggregates) -> None:
    assert aggregates.tags["food"] == TagUse("food", "Food and drink", good=1, better=1)
    assert aggregates.tags["food"].stories == 2
    assert sorted(aggregates.tags) == [
        "booking",
        "food",
        "privacy-and-dignity",
        "staff-attitude",
        "waiting-times",
    ]


def test_stories_shared_each_month_leave_out_withdrawn(aggregates: Aggregates) -> None:
    assert aggregates.site.shared == (
        MonthCount("2026-01", 3),
        MonthCount("2026-02", 2),
        MonthCount("2026-03", 1),
        MonthCount("2026-04", 1),
    )
    assert (aggregates.site.stories, aggregates.site.withdrawn) == (7, 1)


def test_means_wait_for_the_minimum_number_of_ratings(sample: Path) -> None:
    commons = commons_of(sample)
    strict = dataclasses.replace(
        commons, instance=dataclasses.replace(commons.instance, min_ratings=4)
    )
    summary = aggregate_dataset(strict).providers["brook-surgery"]
    assert (summary.ratings, summary.shown, summary.mean, summary.trend) == (3, False, None, ())
    assert {d.dimension: d.mean for d in summary.dimensions} == {
        "overall": None,
        "communication": None,
        "respect": None,
        "timeliness": None,
    }


def test_a_commons_without_stories_or_responses(sample: Path) -> None:
    commons = commons_of(sample)
    for empty in (
        dataclasses.replace(commons, stories=(), responses=()),
        dataclasses.replace(commons, responses=()),
    ):
        aggregates = aggregate_dataset(empty)
        site = aggregates.site
        assert (site.responded, site.median_days_to_respond, site.changes_made) == (0, None, 0)
        assert sorted(aggregates.providers) == ["brook-surgery", "hill-ward", "town-library"]
    nothing = aggregate_dataset(dataclasses.replace(commons, stories=(), responses=())).site
    assert (nothing.stories, nothing.mean, nothing.distribution, nothing.shared) == (
        0,
        None,
        (0, 0, 0, 0, 0),
        (),
    )
