"""Number cards, bars and lines over time, pies and leaderboards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from builder.runtime.insight.metrics import Group, InsightContext, MetricQuery
from builder.runtime.insight.periods import Window, shift
from builder.runtime.insight.widgets import (
    Drill,
    Widget,
    bad_point,
    group_field,
    labels,
    metric_title,
    widget_registry,
)

MAX_PERIODS = 60
MAX_GROUPS = 500


def _change(current: Any, previous: Any) -> float | None:
    if current is None or not previous:
        return None
    return round((current - previous) / abs(previous), 4)


@widget_registry.register
class NumberCard(Widget):
    """One figure for the current period, with the previous period and the change."""

    type = "number"

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        query = self.metrics(ctx, widget)[0]
        window = self.window(ctx, query, widget, {})
        value = query.values(window)[None]
        result: dict[str, Any] = {"series": query.key, "title": metric_title(query),
                                  "value": value, "point": {"series": query.key}}
        if window is not None:
            previous = query.values(window.previous(query.period))[None]
            result.update(window=window.as_dict(), previous=previous,
                          change=_change(value, previous),
                          previous_point={"series": query.key, "previous": True})
        result["table"] = {"columns": [metric_title(query)], "rows": [[value]]}
        return result

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self.series(ctx, widget, point)
        window = self.window(ctx, query, widget, point)
        if window is not None and point.get("previous"):
            window = window.previous(query.period)
        return query.store, query.drill_logic(window)


class _Trend(Widget):
    """Each metric per period over the last ``periods`` periods (``bucket`` sized)."""

    def span(self, ctx: InsightContext, query: MetricQuery, widget: Mapping[str, Any]
             ) -> Window:
        period = self.bucket_period(query, widget)
        count = int(self.option(widget, "periods", 12))
        if not 1 <= count <= MAX_PERIODS:
            raise bad_point("options.periods", "insight.error.bad_periods", max=MAX_PERIODS)
        current = Window.of(ctx.today, period, ctx.zone)
        return Window(shift(current.start, period, 1 - count), current.end, ctx.zone)

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        if widget.get("group_by"):
            return _categories(self, ctx, widget)
        queries = self.metrics(ctx, widget)
        span = self.span(ctx, queries[0], widget)
        period = self.bucket_period(queries[0], widget)
        buckets = [w.start.isoformat() for w in span.buckets(period)]
        series: list[dict[str, Any]] = []
        for query in queries:
            values = query.values(span, Group(period=period))
            series.append({"key": query.key, "title": metric_title(query), "points": [
                {"bucket": b, "value": values.get(b, 0 if query.aggregate in (
                    "count", "distinct_count") else None),
                 "point": {"series": query.key, "bucket": b}} for b in buckets]})
        table = {"columns": ["", *[s["title"] for s in series]],
                 "rows": [[b, *[s["points"][i]["value"] for s in series]]
                          for i, b in enumerate(buckets)]}
        return {"buckets": buckets, "period": period, "series": series, "table": table}

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self.series(ctx, widget, point)
        if widget.get("group_by"):
            return _category_drill(self, ctx, query, widget, point)
        try:
            start = date.fromisoformat(str(point.get("bucket")))
        except ValueError:
            raise bad_point("point.bucket", "insight.error.bad_point") from None
        period = self.bucket_period(query, widget)
        return query.store, query.drill_logic(None, Group(period=period), start.isoformat())


@widget_registry.register
class BarChart(_Trend):
    type = "bar"


@widget_registry.register
class LineChart(_Trend):
    type = "line"


def _categories(widget_type: Widget, ctx: InsightContext, widget: Mapping[str, Any]
                ) -> dict[str, Any]:
    """Each metric per value of ``group_by`` within the widget's window."""
    queries = widget_type.metrics(ctx, widget)
    key = group_field(widget)
    window = widget_type.window(ctx, queries[0], widget, {})
    per_query = [query.values(window, Group(field=key)) for query in queries]
    groups = sorted({g for values in per_query for g in values},
                    key=lambda g: (-(per_query[0].get(g) or 0), str(g)))[:MAX_GROUPS]
    names = labels(queries[0].store, ctx.stores, key, groups)
    series = [{"key": q.key, "title": metric_title(q), "points": [
        {"group": g, "label": names.get(g, str(g)), "value": values.get(g),
         "point": {"series": q.key, "group": g}} for g in groups]}
        for q, values in zip(queries, per_query, strict=True)]
    table = {"columns": ["", *[s["title"] for s in series]],
             "rows": [[names.get(g, str(g)), *[values.get(g) for values in per_query]]
                      for g in groups]}
    return {"group_by": key, "window": window.as_dict() if window else None,
            "series": series, "table": table}


def _category_drill(widget_type: Widget, ctx: InsightContext, query: MetricQuery,
                    widget: Mapping[str, Any], point: Mapping[str, Any]) -> Drill:
    if "group" not in point:
        raise bad_point("point.group", "insight.error.bad_point")
    window = widget_type.window(ctx, query, widget, point)
    return query.store, query.drill_logic(window, Group(field=group_field(widget)),
                                          point["group"])


@widget_registry.register
class PieChart(Widget):
    """Shares of one metric by the values of ``group_by``."""

    type = "pie"

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        return _categories(self, ctx, widget)

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        return _category_drill(self, ctx, self.series(ctx, widget, point), widget, point)


@widget_registry.register
class Leaderboard(Widget):
    """A ranking table per owner (or ``group_by``): one column per metric, best first,
    ``limit`` rows."""

    type = "leaderboard"

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        result = _categories(self, ctx, widget)
        limit = int(self.option(widget, "limit", 10))
        for series in result["series"]:
            series["points"] = series["points"][:limit]
        result["table"]["rows"] = result["table"]["rows"][:limit]
        result["rows"] = [{"rank": i + 1, "group": p["group"], "label": p["label"],
                           "values": [s["points"][i]["value"] for s in result["series"]]}
                          for i, p in enumerate(result["series"][0]["points"])]
        return result

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        return _category_drill(self, ctx, self.series(ctx, widget, point), widget, point)
