"""Hour of day × day of week: when things happen (an assistant's sales at the counter).

The ``punchcard`` widget places each record of its metric by the hour (0-23) and the
weekday (1 = Monday … 7 = Sunday) of the metric's time field in the tenant's zone, and
computes the metric per cell in one ``GROUP BY``. With ``group_by`` every value of that
field (each assistant) gets a grid of its own. The window is the metric's current period,
or the last ``periods`` periods of ``bucket`` size, or all time with ``window: "all"``.

A cell's ``point`` is ``{"weekday", "hour", "group"?}``; its drill-down lists exactly the
records counted in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.insight.metrics import InsightContext, MetricQuery, number
from builder.runtime.insight.periods import Window, shift
from builder.runtime.insight.widgets import (
    Drill,
    Widget,
    bad_point,
    labels,
    metric_title,
    widget_registry,
)
from builder.runtime.query.listing import column_ref

HOURS = tuple(range(24))
WEEKDAYS = tuple(range(1, 8))
MAX_PERIODS = 60
MAX_DRILL = 5000


def _offset_hours(zone: str, day: date) -> float:
    offset = datetime.combine(day, time(12), ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() / 3600 if offset else 0.0


def weekday_hour_sql(column: Any, dialect: str, zone: str, on: date) -> tuple[Any, Any]:
    """SQL for the ISO weekday (1 = Monday) and the hour of a UTC timestamp in ``zone``."""
    if dialect == "postgresql":
        local = sa.func.timezone(zone, column)
        return (sa.cast(sa.extract("isodow", local), sa.Integer),
                sa.cast(sa.extract("hour", local), sa.Integer))
    local = sa.func.datetime(column, f"{_offset_hours(zone, on):+g} hours")
    sunday_first = sa.cast(sa.func.strftime("%w", local), sa.Integer)
    return ((sunday_first + 6) % 7 + 1, sa.cast(sa.func.strftime("%H", local), sa.Integer))


@widget_registry.register
class Punchcard(Widget):
    """The metric per weekday × hour cell, for each value of ``group_by`` if given."""

    type = "punchcard"

    def _query(self, ctx: InsightContext, widget: Mapping[str, Any]) -> MetricQuery:
        query = self.metrics(ctx, widget)[0]
        if query.aggregate in ("ratio", "median"):
            raise bad_point("metrics", "insight.error.punchcard_metric")
        if query.time_kind() != "datetime":
            raise bad_point("metrics", "insight.error.punchcard_time")
        return query

    def span(self, ctx: InsightContext, query: MetricQuery, widget: Mapping[str, Any]
             ) -> Window | None:
        if self.option(widget, "window") == "all":
            return None
        period = self.bucket_period(query, widget)
        count = self.option(widget, "periods", 1)
        if not isinstance(count, int) or not 1 <= count <= MAX_PERIODS:
            raise bad_point("options.periods", "insight.error.bad_periods", max=MAX_PERIODS)
        current = Window.of(ctx.today, period, ctx.zone)
        return Window(shift(current.start, period, 1 - count), current.end, ctx.zone)

    def _axes(self, ctx: InsightContext, query: MetricQuery) -> tuple[Any, Any]:
        ref = column_ref(query.store, query.time_field or "created_at")
        assert ref is not None
        return weekday_hour_sql(ref.expr, db.session.get_bind().dialect.name, ctx.zone,
                                ctx.today)

    def _group(self, query: MetricQuery, widget: Mapping[str, Any]) -> Any:
        key = widget.get("group_by")
        if not key:
            return None
        ref = column_ref(query.store, str(key))
        if ref is None or ref.kind in ("list", "json"):
            raise bad_point("group_by", "insight.error.bad_group", field=key)
        return ref.expr

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        query = self._query(ctx, widget)
        window = self.span(ctx, query, widget)
        weekday, hour = self._axes(ctx, query)
        group = self._group(query, widget)
        keys = [weekday.label("w"), hour.label("h")]
        if group is not None:
            keys.append(group.label("g"))
        statement = sa.select(query.aggregate_column().label("v"), *keys).select_from(
            query.store.table).where(*query.where(window)).group_by(*keys)
        found: dict[tuple[Any, int, int], Any] = {}
        for row in db.session.execute(statement).mappings():
            found[(row.get("g"), int(row["w"]), int(row["h"]))] = number(row["v"])
        groups = sorted({g for g, _, _ in found}, key=lambda g: (g is None, str(g)))
        key = str(widget.get("group_by") or "")
        names = labels(query.store, ctx.stores, key, groups) if key else {None: ""}
        empty = 0 if query.aggregate in ("count", "distinct_count") else None
        cells = []
        for g in groups or [None]:
            for w in WEEKDAYS:
                for h in HOURS:
                    point: dict[str, Any] = {"series": query.key, "weekday": w, "hour": h}
                    if key:
                        point["group"] = g
                    cells.append({"group": g, "weekday": w, "hour": h,
                                  "value": found.get((g, w, h), empty), "point": point})
        table = {"columns": ["", "", *[f"{h:02d}" for h in HOURS]], "rows": [
            [names.get(g, str(g)), w, *[c["value"] for c in cells
                                        if c["group"] == g and c["weekday"] == w]]
            for g in groups or [None] for w in WEEKDAYS]}
        return {"series": query.key, "title": metric_title(query), "group_by": key or None,
                "window": window.as_dict() if window else None, "weekdays": list(WEEKDAYS),
                "hours": list(HOURS),
                "groups": [{"group": g, "label": names.get(g, str(g))} for g in groups],
                "cells": cells, "table": table}

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self._query(ctx, widget)
        weekday_value, hour_value = point.get("weekday"), point.get("hour")
        if weekday_value not in WEEKDAYS or hour_value not in HOURS:
            raise bad_point("point", "insight.error.bad_point")
        window = self.span(ctx, query, widget)
        weekday, hour = self._axes(ctx, query)
        where = [*query.where(window), weekday == weekday_value, hour == hour_value]
        group = self._group(query, widget)
        if group is not None:
            where.append(group.is_(None) if point.get("group") is None
                         else group == point["group"])
        table = query.store.table
        ids = list(db.session.scalars(sa.select(table.c.id).where(*where)
                                      .order_by(table.c.id).limit(MAX_DRILL + 1)))
        if len(ids) > MAX_DRILL:
            raise bad_point("point", "insight.error.punchcard_too_many", max=MAX_DRILL)
        logic = query.drill_logic(window, extra={"in": [{"var": "id"}, [int(i) for i in ids]]})
        return query.store, logic
