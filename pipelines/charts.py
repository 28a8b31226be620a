"""Altair: Aggregates -> chart specs, each with its data, a data table and a text summary.

Each kind of chart is specified once, with Altair, against a named data source; a page binds
its own small data to it in the browser. No per-page Altair call, so 2,000 providers cost
2,000 small lists, not 2,000 specs.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import altair as alt

from pipelines.aggregate import SCORES, Aggregates, Summary
from pipelines.logs import get_logger
from pipelines.records import Commons

log = get_logger(__name__)

# What the runtime script exposes: vega-embed, which themes/commons/static/js/charts.js calls.
VEGA_SNIPPET = "window.vegaEmbed = vegaEmbed;"
DATA_NAME = "values"  # the named data source every template spec reads; pages supply it
KINDS = ("distribution", "dimensions", "trend", "site-trend")


@dataclass(frozen=True)
class ChartTable:
    """The chart's data as a table: the alternative for screen readers and for no JavaScript."""

    caption: str
    columns: tuple[str, ...]
    numeric: tuple[bool, ...]  # right-aligned number columns
    rows: tuple[tuple[str, ...], ...]  # cells as displayed; the first is the row header


@dataclass(frozen=True)
class Chart:
    kind: str  # one of KINDS: which template spec draws it
    title: str
    summary: str  # one or two sentences saying what the chart shows
    values: tuple[dict[str, Any], ...]  # the rows bound to the spec's named data
    table: ChartTable
    svg: str | None = None  # drawn at build time, for site-wide charts only

    @property
    def svg_path(self) -> str | None:
        """Where the website writes the SVG: named by its content, so caches never go stale."""
        if self.svg is None:
            return None
        digest = hashlib.sha256(self.svg.encode("utf-8")).hexdigest()[:16]
        return f"theme/charts/{self.kind}-{digest}.svg"

    @property
    def max_value(self) -> float:
        """The largest plotted value, for the bars drawn in CSS without JavaScript."""
        return max((float(v.get("count", v.get("mean", 0)) or 0) for v in self.values), default=0)


@dataclass(frozen=True)
class Charts:
    specs: dict[str, dict[str, Any]]  # kind -> Vega-Lite spec reading DATA_NAME
    site: tuple[Chart, ...]
    providers: dict[str, tuple[Chart, ...]]  # empty until a provider has enough ratings
    runtime: str  # Vega, Vega-Lite and vega-embed in one script, self-hosted by the website


def _number(value: float) -> str:
    return f"{value:.1f}"


@functools.cache  # a few dozen months, named once each for 2,000 providers' trends
def _month(value: str) -> str:
    import calendar

    year, month = value.split("-")
    return f"{calendar.month_name[int(month)]} {year}"


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# Counts: whole-number ticks, never more than the largest count (Vega's tickMinStep still
# gives 0.5 steps on a scale of 0 to 1).
WHOLE_NUMBER_AXIS = alt.Axis(
    format="d", tickCount=alt.ExprRef("min(ceil(height / 40), domain('y')[1])")
)


def template_specs() -> dict[str, dict[str, Any]]:
    """One Vega-Lite spec per kind of chart, built once with Altair."""
    data = alt.NamedData(name=DATA_NAME)
    accessible: dict[str, Any] = {"config": {"font": "system-ui, sans-serif"}}
    distribution = (
        alt.Chart(data)
        .mark_bar(color="#0b4f6c")
        .encode(
            x=alt.X("score:O", title="Overall rating (1 very poor, 5 excellent)", sort=None),
            y=alt.Y("count:Q", title="Ratings", axis=WHOLE_NUMBER_AXIS),
            tooltip=[
                alt.Tooltip("score:O", title="Rating"),
                alt.Tooltip("count:Q", title="Ratings"),
            ],
        )
        .properties(width="container", height=200)
    )
    dimensions = (
        alt.Chart(data)
        .mark_bar(color="#0b4f6c")
        .encode(
            y=alt.Y("name:N", title=None, sort=None),
            x=alt.X("mean:Q", title="Mean rating", scale=alt.Scale(domain=[0, 5])),
            tooltip=[
                alt.Tooltip("name:N", title="Dimension"),
                alt.Tooltip("mean:Q", title="Mean", format=".1f"),
                alt.Tooltip("count:Q", title="Ratings"),
            ],
        )
        .properties(width="container")
    )
    trend = (
        alt.Chart(data)
        .mark_line(point=True, color="#0b4f6c")
        .encode(
            x=alt.X("month:T", title="Month it happened", timeUnit="utcyearmonth"),
            y=alt.Y("mean:Q", title="Mean overall rating", scale=alt.Scale(domain=[1, 5])),
            tooltip=[
                alt.Tooltip("month:T", title="Month", timeUnit="utcyearmonth"),
                alt.Tooltip("mean:Q", title="Mean", format=".1f"),
                alt.Tooltip("count:Q", title="Ratings"),
            ],
        )
        .properties(width="container", height=220)
    )
    site_trend = (
        alt.Chart(data)
        .mark_bar(color="#0b4f6c")
        .encode(
            x=alt.X("month:T", title="Month shared", timeUnit="utcyearmonth"),
            y=alt.Y("count:Q", title="Stories shared", axis=WHOLE_NUMBER_AXIS),
            tooltip=[
                alt.Tooltip("month:T", title="Month", timeUnit="utcyearmonth"),
                alt.Tooltip("count:Q", title="Stories"),
            ],
        )
        .properties(width="container", height=220)
    )
    specs = {}
    # Fill the page's width; heights stay as set (or as many bars as there are dimensions).
    accessible["autosize"] = {"type": "fit-x", "contains": "padding"}
    for kind, chart in zip(KINDS, (distribution, dimensions, trend, site_trend), strict=True):
        spec = chart.to_dict()
        spec.update(accessible)
        # The $schema address is only a label; drop it so no page names another origin.
        spec.pop("$schema", None)
        specs[kind] = json.loads(json.dumps(spec, sort_keys=True))
    return specs


def distribution_chart(summary: Summary) -> Chart:
    total = sum(summary.distribution)
    values = tuple(
        {"score": str(score), "count": count}
        for score, count in zip(SCORES, summary.distribution, strict=True)
    )
    given = [
        f"{count} at {score}"
        for score, count in zip(SCORES, summary.distribution, strict=True)
        if count
    ]
    return Chart(
        "distribution",
        "How people rated it overall",
        f"{_plural(total, 'overall rating')} from 1 (very poor) to 5 (excellent)"
        + (f": {_and(given)}." if given else "."),
        values,
        ChartTable(
            "Number of overall ratings at each score",
            ("Rating", "Ratings", "Share"),
            (False, True, True),
            tuple(
                (
                    str(score),
                    str(count),
                    f"{round(100 * count / total)}%" if total else "–",
                )
                for score, count in zip(SCORES, summary.distribution, strict=True)
            ),
        ),
    )


def dimensions_chart(summary: Summary) -> Chart | None:
    shown = [d for d in summary.dimensions if d.mean is not None]
    if not shown:
        return None
    best = max(shown, key=lambda d: (d.mean or 0, d.name))
    worst = min(shown, key=lambda d: (d.mean or 0, d.name))
    hidden = [d for d in summary.dimensions if d.mean is None]
    note = f" {_plural(len(hidden), 'dimension')} had too few ratings to show." if hidden else ""
    if best == worst:
        said = f"{best.name}: {_number(best.mean or 0)} out of 5."
    else:
        said = (
            f"Highest: {best.name}, {_number(best.mean or 0)} out of 5; "
            f"lowest: {worst.name}, {_number(worst.mean or 0)} out of 5."
        )
    return Chart(
        "dimensions",
        "Mean rating of each part of the experience",
        said + note,
        tuple({"name": d.name, "mean": d.mean, "count": d.count} for d in shown),
        ChartTable(
            "Mean rating (out of 5) and number of ratings for each dimension",
            ("Dimension", "Mean", "Ratings"),
            (False, True, True),
            tuple(
                (d.name, _number(d.mean) if d.mean is not None else "–", str(d.count))
                for d in summary.dimensions
            ),
        ),
    )


def trend_chart(summary: Summary) -> Chart | None:
    if not summary.trend:
        return None
    first, last = summary.trend[0], summary.trend[-1]
    return Chart(
        "trend",
        "Mean overall rating by month",
        f"{_plural(len(summary.trend), 'month')} from {_month(first.month)} to "
        f"{_month(last.month)}: {_number(first.mean)} out of 5 in the first, "
        f"{_number(last.mean)} in the latest.",
        tuple({"month": m.month, "mean": m.mean, "count": m.count} for m in summary.trend),
        ChartTable(
            "Mean overall rating and number of ratings by the month it happened",
            ("Month", "Mean", "Ratings"),
            (False, True, True),
            tuple((_month(m.month), _number(m.mean), str(m.count)) for m in summary.trend),
        ),
    )


def site_trend_chart(summary: Summary) -> Chart | None:
    if not summary.shared:
        return None
    busiest = max(summary.shared, key=lambda m: (m.count, m.month))
    return Chart(
        "site-trend",
        "Stories shared each month",
        f"{_plural(summary.stories, 'story', 'stories')} shared over {_plural(len(summary.shared), 'month')}; "
        f"the most in {_month(busiest.month)}, with {busiest.count}.",
        tuple({"month": m.month, "count": m.count} for m in summary.shared),
        ChartTable(
            "Number of stories shared each month",
            ("Month", "Stories"),
            (False, True),
            tuple((_month(m.month), str(m.count)) for m in summary.shared),
        ),
    )


def summary_charts(summary: Summary) -> tuple[Chart, ...]:
    """A provider's charts; none until the instance's minimum number of ratings is reached."""
    if not summary.shown:
        return ()
    charts = [distribution_chart(summary), dimensions_chart(summary), trend_chart(summary)]
    return tuple(c for c in charts if c is not None)


STATIC_WIDTH = 640  # pixels: the SVG scales down with the page


def static_svg(chart: Chart, spec: dict[str, Any], cache_dir: Path | None) -> str:
    """The chart as SVG, drawn by vl-convert; cached under cache_dir by the hash of its input.

    Only the few site-wide charts are drawn so: every provider's chart would cost a
    vl-convert call each.
    """
    import vl_convert

    whole = {
        **spec,
        "data": {"values": list(chart.values)},
        "width": STATIC_WIDTH,
        "autosize": {"type": "pad"},
    }
    key = hashlib.sha256(
        json.dumps([metadata.version("vl-convert-python"), whole], sort_keys=True).encode("utf-8")
    ).hexdigest()
    return _cached(cache_dir, f"{key}.svg", lambda: str(vl_convert.vegalite_to_svg(whole)))


def vega_runtime(cache_dir: Path | None) -> str:
    """The script pages load to draw charts: vl-convert's bundle of Vega, Vega-Lite and vega-embed.

    Bundling takes vl-convert 1.5 to 3 seconds, so the bundle is cached under cache_dir by
    vl-convert's version: it is never committed and never fetched from a CDN.
    """
    import vl_convert

    key = hashlib.sha256(
        json.dumps([metadata.version("vl-convert-python"), VEGA_SNIPPET]).encode("utf-8")
    ).hexdigest()
    return _cached(
        cache_dir, f"vega-{key}.js", lambda: str(vl_convert.javascript_bundle(VEGA_SNIPPET))
    )


def _cached(cache_dir: Path | None, name: str, make: Callable[[], str]) -> str:
    """make()'s text, kept as cache_dir/charts/name (name: a hash of the input) given cache_dir."""
    cached = cache_dir / "charts" / name if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = make()
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        partial.replace(cached)
    return text


def build_charts(commons: Commons, aggregates: Aggregates, cache_dir: Path | None = None) -> Charts:
    """Every chart of the site: the specs once, and each page's data, table and summary.

    Site-wide charts are also drawn as SVG for readers without JavaScript; they and the
    runtime script are cached in cache_dir when given.
    """
    specs = template_specs()
    site = [
        dataclasses.replace(chart, svg=static_svg(chart, specs[chart.kind], cache_dir))
        for chart in (site_trend_chart(aggregates.site),)
        if chart is not None
    ]
    providers = {p.id: summary_charts(aggregates.providers[p.id]) for p in commons.providers}
    log.info("%d providers with charts", sum(1 for c in providers.values() if c))
    return Charts(
        specs=specs,
        site=tuple(c for c in site if c is not None),
        providers=providers,
        runtime=vega_runtime(cache_dir),
    )
