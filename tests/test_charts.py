from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pipelines import charts
from pipelines.aggregate import aggregate_dataset
from pipelines.charts import DATA_NAME, KINDS, build_charts
from pipelines.load import load_dataset
from pipelines.records import Commons
from pipelines.validate import validate_dataset


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One chart cache for the module: vl-convert bundles the runtime script once, not per test."""
    return tmp_path_factory.mktemp("chart-cache")


@pytest.fixture
def commons(sample: Path) -> Commons:
    found = validate_dataset(load_dataset(sample)).commons
    assert found is not None
    return found


def test_each_kind_of_chart_is_specified_once(
    cache: Path, commons: Commons, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = charts.template_specs

    def counted() -> dict[str, dict[str, object]]:
        calls.append(1)
        return real()

    monkeypatch.setattr(charts, "template_specs", counted)
    built = build_charts(commons, aggregate_dataset(commons), cache)
    assert calls == [1]
    assert sorted(built.specs) == sorted(KINDS)
    for spec in built.specs.values():
        assert spec["data"] == {"name": DATA_NAME}
        assert "$schema" not in spec
        assert "http" not in json.dumps(spec)


def test_provider_charts_bind_small_data_with_a_table(cache: Path, commons: Commons) -> None:
    built = build_charts(commons, aggregate_dataset(commons), cache)
    assert [c.kind for c in built.providers["brook-surgery"]] == [
        "distribution",
        "dimensions",
        "trend",
    ]
    distribution, dimensions, trend = built.providers["brook-surgery"]
    assert [v["count"] for v in distribution.values] == [0, 1, 1, 0, 1]
    assert distribution.table.rows[1] == ("2", "1", "33%")
    assert distribution.summary == (
        "3 overall ratings from 1 (very poor) to 5 (excellent): 1 at 2, 1 at 3 and 1 at 5."
    )
    # Dimensions below the minimum stay in the table, without a mean, and out of the chart.
    assert [v["name"] for v in dimensions.values] == ["Overall"]
    assert ("Communication", "–", "1") in dimensions.table.rows
    assert trend.values == (
        {"month": "2025-12", "mean": 2.0, "count": 1},
        {"month": "2026-01", "mean": 4.0, "count": 2},
    )
    assert [row[0] for row in trend.table.rows] == ["December 2025", "January 2026"]


def test_no_charts_below_the_minimum_number_of_ratings(cache: Path, commons: Commons) -> None:
    built = build_charts(commons, aggregate_dataset(commons), cache)
    assert built.providers["town-library"] == ()
    strict = dataclasses.replace(
        commons, instance=dataclasses.replace(commons.instance, min_ratings=10)
    )
    strict_charts = build_charts(strict, aggregate_dataset(strict), cache)
    assert all(c == () for c in strict_charts.providers.values())
    # Counting stories shared is not a rating: the site-wide chart stays.
    assert [c.kind for c in strict_charts.site] == ["site-trend"]


def test_site_trend(cache: Path, commons: Commons) -> None:
    (site,) = build_charts(commons, aggregate_dataset(commons), cache).site
    assert site.table.rows == (
        ("January 2026", "3"),
        ("February 2026", "2"),
        ("March 2026", "1"),
        ("April 2026", "1"),
    )
    assert site.summary == "7 stories shared over 4 months; the most in January 2026, with 3."


def test_site_charts_are_drawn_once_and_cached(
    cache: Path, commons: Commons, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vl_convert

    aggregates = aggregate_dataset(commons)
    (first,) = build_charts(commons, aggregates, cache_dir=tmp_path).site
    assert first.svg is not None and first.svg.startswith("<svg")
    assert first.svg_path is not None
    assert first.svg_path.startswith("theme/charts/site-trend-") and first.svg_path.endswith(".svg")
    assert len(list((tmp_path / "charts").glob("*.svg"))) == 1
    # Provider charts are never drawn at build time.
    assert all(
        c.svg is None
        for cs in build_charts(commons, aggregates, cache).providers.values()
        for c in cs
    )

    def refuse(spec: object) -> str:
        raise AssertionError("drawn again although cached")

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", refuse)
    (again,) = build_charts(commons, aggregates, cache_dir=tmp_path).site
    assert again.svg == first.svg


def test_the_runtime_script_is_bundled_once_per_vl_convert_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vl_convert

    first = charts.vega_runtime(tmp_path)
    assert "window.vegaEmbed=" in first  # what themes/commons/static/js/charts.js calls
    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda _: pytest.fail("bundled again"))
    assert charts.vega_runtime(tmp_path) == first
    assert [p.name[:5] for p in (tmp_path / "charts").iterdir()] == ["vega-"]
