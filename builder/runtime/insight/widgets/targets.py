"""Targets against actuals, and the owner × week heatmap of achievement.

Targets are ordinary records of an entity the app defines (e.g. 销售目标: owner or
region or product line, month, amount), so managers enter and decompose them like any
other data. A widget names it in ``options.target``::

    {"entity": "sales_target", "field": "amount", "date_field": "month",
     "dimension": "region"}

The actual side is the widget's metric grouped by ``options.dimension`` (a field of the
metric's entity with the same values, e.g. ``region`` or ``owner``); the dimension
``$team`` groups by the owner's teams.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import Team, team_members
from builder.runtime.insight.metrics import Group, InsightContext, MetricQuery, number
from builder.runtime.insight.periods import Window, bucket_sql, shift
from builder.runtime.insight.widgets import (
    Drill,
    Widget,
    bad_point,
    labels,
    metric_title,
    widget_registry,
)
from builder.runtime.query.listing import column_ref
from builder.runtime.storage.tables import EntityStore

TEAM = "$team"


def _ratio(actual: Any, target: Any) -> float | None:
    if actual is None or not target:
        return None
    return round(actual / target, 4)


class TargetSource:
    """Sums of the target entity's value field per dimension value (and period)."""

    def __init__(self, ctx: InsightContext, spec: Any) -> None:
        if not isinstance(spec, Mapping):
            raise bad_point("options.target", "insight.error.bad_target")
        store = ctx.stores.get(str(spec.get("entity")))
        if store is None or any(spec.get(name) not in store.columns
                                for name in ("field", "date_field")):
            raise bad_point("options.target", "insight.error.bad_target")
        self.ctx = ctx
        self.store: EntityStore = store
        self.field = str(spec["field"])
        self.date_field = str(spec["date_field"])
        self.dimension = str(spec.get("dimension") or "owner")
        if column_ref(store, self.dimension) is None:
            raise bad_point("options.target.dimension", "insight.error.bad_target")

    def sums(self, window: Window, period: str | None = None) -> dict[Any, Any]:
        """``dimension value`` (or ``(value, bucket)`` with a period) → target."""
        from builder.runtime.access import row_condition

        table = self.store.table
        date_ref = column_ref(self.store, self.date_field)
        dim = column_ref(self.store, self.dimension)
        assert date_ref is not None and dim is not None
        low, high = window.start, window.end
        where = [table.c.deleted == sa.false(), date_ref.expr >= low, date_ref.expr < high]
        scope = row_condition(self.store, self.ctx.user)
        if scope is not None:
            where.append(scope)
        keys: list[Any] = [dim.expr.label("d")]
        if period:
            dialect = db.session.get_bind().dialect.name
            keys.append(bucket_sql(date_ref.expr, date_ref.kind, period, dialect,
                                   self.ctx.zone, self.ctx.today).label("b"))
        statement = sa.select(sa.func.sum(self.store.columns[self.field]).label("v"),
                              *keys).where(*where).group_by(*keys)
        return {(row["d"], row["b"]) if period else row["d"]: number(row["v"])
                for row in db.session.execute(statement).mappings()}


def _team_members(tenant_id: int) -> dict[str, set[int]]:
    """Team key → ids of its members and manager."""
    members: dict[str, set[int]] = {}
    rows = db.session.execute(sa.select(Team.key, team_members.c.user_id).join(
        team_members, team_members.c.team_id == Team.id).where(Team.tenant_id == tenant_id))
    for row in rows:
        members.setdefault(row.key, set()).add(int(row.user_id))
    for team in db.session.scalars(sa.select(Team).where(Team.tenant_id == tenant_id,
                                                         Team.manager_id.is_not(None))):
        members.setdefault(team.key, set()).add(int(team.manager_id or 0))
    return members


@widget_registry.register
class TargetVsActual(Widget):
    """The metric against its targets per dimension value, in the current period."""

    type = "target"

    def dimension(self, widget: Mapping[str, Any]) -> str:
        return str(self.option(widget, "dimension") or "owner")

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        query = self.metrics(ctx, widget)[0]
        source = TargetSource(ctx, self.option(widget, "target"))
        window = self.window(ctx, query, widget, {}) or Window.of(ctx.today, query.period,
                                                                   ctx.zone)
        dimension = self.dimension(widget)
        targets = source.sums(window)
        if dimension == TEAM:
            teams = _team_members(query.store.tenant_id)
            by_owner = query.values(window, Group(field="owner"))
            actual = {team: sum(v or 0 for owner, v in by_owner.items() if owner in ids)
                      for team, ids in teams.items()}
            names = {t: t for t in {*actual, *targets}}
            names.update({row.key: row.name for row in db.session.execute(
                sa.select(Team.key, Team.name).where(Team.tenant_id == query.store.tenant_id))})
        else:
            actual = query.values(window, Group(field=dimension))
            names = labels(query.store, ctx.stores, dimension, [*{*actual, *targets}])
        groups = sorted({*actual, *targets}, key=lambda g: (str(names.get(g, g)), str(g)))
        rows = [{"group": g, "label": names.get(g, str(g)), "actual": actual.get(g, 0),
                 "target": targets.get(g), "achievement": _ratio(actual.get(g, 0),
                                                                  targets.get(g)),
                 "point": {"series": query.key, "group": g}} for g in groups]
        total_actual = sum(r["actual"] or 0 for r in rows)
        total_target = sum(r["target"] or 0 for r in rows)
        table = {"columns": ["", gettext("insight.label.actual"),
                             gettext("insight.label.target"),
                             gettext("insight.label.achievement")],
                 "rows": [[r["label"], r["actual"], r["target"], r["achievement"]]
                          for r in rows]}
        return {"series": query.key, "title": metric_title(query), "dimension": dimension,
                "window": window.as_dict(), "rows": rows,
                "total": {"actual": total_actual, "target": total_target,
                          "achievement": _ratio(total_actual, total_target)},
                "table": table}

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self.series(ctx, widget, point)
        window = self.window(ctx, query, widget, point) or Window.of(ctx.today, query.period,
                                                                      ctx.zone)
        dimension = self.dimension(widget)
        if "group" not in point:
            return query.store, query.drill_logic(window)
        if dimension == TEAM:
            ids = sorted(_team_members(query.store.tenant_id).get(str(point["group"]), set()))
            return query.store, query.drill_logic(window, extra={
                "in": [{"var": "owner"}, ids]})
        return query.store, query.drill_logic(window, Group(field=dimension), point["group"])


@widget_registry.register
class Heatmap(Widget):
    """Owners (or ``group_by``) × weeks: the metric, or its share of the target."""

    type = "heatmap"

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        query = self.metrics(ctx, widget)[0]
        period = str(self.option(widget, "bucket") or "week")
        count = int(self.option(widget, "periods", 8))
        if not 1 <= count <= 53:
            raise bad_point("options.periods", "insight.error.bad_periods", max=53)
        current = Window.of(ctx.today, period, ctx.zone)
        span = Window(shift(current.start, period, 1 - count), current.end, ctx.zone)
        buckets = [w.start.isoformat() for w in span.buckets(period)]
        key = str(widget.get("group_by") or "owner")
        actual = self._cells(query, span, period, key)
        target_spec = self.option(widget, "target")
        targets = TargetSource(ctx, target_spec).sums(span, period) if target_spec else {}
        targets = {(g, str(b)): v for (g, b), v in targets.items()}
        groups = sorted({g for g, _ in actual} | {g for g, _ in targets}, key=str)
        names = labels(query.store, ctx.stores, key, groups)
        cells = []
        for group in groups:
            for bucket in buckets:
                value = actual.get((group, bucket), 0)
                target = targets.get((group, bucket))
                cells.append({"group": group, "bucket": bucket, "value": value,
                              "target": target, "achievement": _ratio(value, target),
                              "point": {"series": query.key, "group": group,
                                        "bucket": bucket}})
        table = {"columns": ["", *buckets], "rows": [
            [names.get(g, str(g)), *[c["achievement"] if target_spec else c["value"]
                                     for c in cells if c["group"] == g]] for g in groups]}
        return {"series": query.key, "title": metric_title(query), "group_by": key,
                "period": period, "buckets": buckets,
                "groups": [{"group": g, "label": names.get(g, str(g))} for g in groups],
                "cells": cells, "table": table}

    @staticmethod
    def _cells(query: MetricQuery, span: Window, period: str, key: str
               ) -> dict[tuple[Any, str], Any]:
        result: dict[tuple[Any, str], Any] = {}
        for bucket in span.buckets(period):
            for group, value in query.values(bucket, Group(field=key)).items():
                result[(group, bucket.start.isoformat())] = value
        return result

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self.series(ctx, widget, point)
        period = str(self.option(widget, "bucket") or "week")
        try:
            start = date.fromisoformat(str(point.get("bucket")))
        except ValueError:
            raise bad_point("point.bucket", "insight.error.bad_point") from None
        window = Window(start, shift(start, period, 1), ctx.zone)
        key = str(widget.get("group_by") or "owner")
        return query.store, query.drill_logic(window, Group(field=key), point.get("group"))
