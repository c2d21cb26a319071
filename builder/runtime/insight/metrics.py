"""Metrics: one definition of each number, computed by the database.

A metric (``metrics[]`` of the app definition) is an aggregate over an entity's live
records that pass its JsonLogic filter, optionally within a time window on its time field.
``MetricQuery.values`` runs one ``GROUP BY`` query (through the JsonLogic→SQL translator)
and returns a number per group: no record is loaded into Python. The rows a user may see
(their role's row scope) are the only rows counted, so a rep's dashboard counts the rep's
records and their manager's counts the team's.

``MetricQuery.drill_logic`` gives the JsonLogic that selects exactly the records behind one
number (filter, window, group), which the records list runs with the same scope: a number
and its drill-down list cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.database import utcnow
from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.insight.periods import DEFAULT_ZONE, Window, bucket_sql, shift
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore

NUMERIC = ("sum", "avg", "min", "max", "median")


@dataclass
class InsightContext:
    """Who is looking, at which app, and when (``today`` in the tenant's zone)."""

    stores: Mapping[str, EntityStore]
    user: Any
    today: date
    zone: str = DEFAULT_ZONE
    rule_context: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self) -> Mapping[str, Any]:
        return next(iter(self.stores.values())).app

    def metric(self, key: str) -> Mapping[str, Any]:
        for metric in self.app.get("metrics") or []:
            if metric.get("key") == key:
                return metric
        raise NotFound(gettext("insight.error.no_metric", metric=key))


@dataclass(frozen=True)
class Group:
    """How values are split: by a field (``field``), by period of the time field
    (``period``), or not at all."""

    field: str | None = None
    period: str | None = None

    @property
    def none(self) -> bool:
        return self.field is None and self.period is None


def _invalid(path: str, key: str, **params: Any) -> ValidationFailed:
    message = gettext(key, **params)
    return ValidationFailed(message, [Problem(path, message, "invalid")])


def number(value: Any) -> float | int | None:
    """A database aggregate as a JSON number (ints stay ints)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


class MetricQuery:
    """One metric for one viewer."""

    def __init__(self, ctx: InsightContext, key: str) -> None:
        self.ctx = ctx
        self.key = key
        self.metric = ctx.metric(key)
        self.aggregate = self.metric["aggregate"]
        if self.aggregate == "ratio":
            self.parts = (MetricQuery(ctx, self.metric["numerator"]),
                          MetricQuery(ctx, self.metric["denominator"]))
            self.store: EntityStore = self.parts[0].store
        else:
            entity = self.metric.get("entity")
            store = ctx.stores.get(str(entity))
            if store is None:
                raise NotFound(gettext("insight.error.no_metric", metric=key))
            self.store = store

    @property
    def time_field(self) -> str | None:
        if self.aggregate == "ratio":
            return self.parts[0].time_field
        value = self.metric.get("time_field")
        return str(value) if value else None

    @property
    def period(self) -> str:
        if self.aggregate == "ratio":
            return self.parts[0].period
        return str(self.metric.get("period") or "month")

    def time_kind(self) -> str:
        ref = column_ref(self.store, self.time_field or "created_at")
        return ref.kind if ref else "datetime"

    # -- SQL --------------------------------------------------------------------------------

    def _translate(self, logic: Any, path: str) -> ColumnElement[bool]:
        try:
            return to_sql(logic, lambda name: column_ref(self.store, name),
                          self.ctx.rule_context)
        except RuleError as exc:
            raise _invalid(path, "insight.error.bad_filter", reason=exc.message) from None

    def where(self, window: Window | None = None, extra: Any = None
              ) -> list[ColumnElement[bool]]:
        """Live rows, the metric's filter, the viewer's scope, the window and ``extra``."""
        from builder.runtime.access import row_condition

        table = self.store.table
        conditions: list[ColumnElement[bool]] = [table.c.deleted == sa.false()]
        if self.metric.get("filter") is not None:
            conditions.append(self._translate(self.metric["filter"], f"metrics.{self.key}"))
        scope = row_condition(self.store, self.ctx.user)
        if scope is not None:
            conditions.append(scope)
        if window is not None and self.time_field:
            conditions.append(self._translate(
                window.as_logic(self.time_field, self.time_kind()), "window"))
        if extra is not None:
            conditions.append(self._translate(extra, "filter"))
        return conditions

    def _value_column(self) -> Any:
        key = self.metric.get("field")
        if key is None:
            return None
        ref = column_ref(self.store, str(key))
        if ref is None:
            raise _invalid(f"metrics.{self.key}.field", "insight.error.bad_field", field=key)
        if self.metric.get("age"):
            from builder.runtime.insight.age import age_expression

            now = datetime.fromisoformat(str(self.ctx.rule_context.get("$now") or
                                             utcnow().isoformat()).replace("Z", "+00:00"))
            return age_expression(ref.expr, ref.kind, str(self.metric["age"]), now)
        return ref.expr

    def _group_column(self, group: Group) -> Any:
        if group.period:
            ref = column_ref(self.store, self.time_field or "created_at")
            assert ref is not None
            dialect = db.session.get_bind().dialect.name
            return bucket_sql(ref.expr, ref.kind, group.period, dialect, self.ctx.zone,
                              self.ctx.today)
        ref = column_ref(self.store, str(group.field))
        if ref is None or ref.kind in ("list", "json"):
            raise _invalid("group_by", "insight.error.bad_group", field=group.field)
        return ref.expr

    def aggregate_column(self) -> Any:
        """The metric's SQL aggregate (not for ``ratio`` and ``median``, which take more
        than one expression)."""
        value = self._value_column()
        return {
            "count": lambda: sa.func.count(),
            "distinct_count": lambda: sa.func.count(sa.distinct(value)),
            "sum": lambda: sa.func.sum(value),
            "avg": lambda: sa.func.avg(value),
            "min": lambda: sa.func.min(value),
            "max": lambda: sa.func.max(value),
        }[self.aggregate]()

    def values(self, window: Window | None = None, group: Group = Group(),
               extra: Any = None) -> dict[Any, Any]:
        """The metric per group value (``None`` key without grouping)."""
        if self.aggregate == "ratio":
            top, bottom = (part.values(window, group, extra) for part in self.parts)
            return {k: (None if not bottom.get(k) else top.get(k, 0) / bottom[k])
                    for k in {*top, *bottom}}
        where = self.where(window, extra)
        grouped = None if group.none else self._group_column(group).label("g")
        if self.aggregate == "median":
            return self._median(where, grouped)
        aggregate = self.aggregate_column()
        columns = [aggregate.label("v")] + ([grouped] if grouped is not None else [])
        statement = sa.select(*columns).select_from(self.store.table).where(*where)
        if grouped is not None:
            statement = statement.group_by(grouped)
        result = {}
        for row in db.session.execute(statement).mappings():
            result[row.get("g")] = number(row["v"])
        if grouped is None and None not in result:
            result[None] = 0 if self.aggregate in ("count", "distinct_count") else None
        return result

    def _median(self, where: list[ColumnElement[bool]], grouped: Any) -> dict[Any, Any]:
        """Median by window functions: the middle value(s) of each group, averaged."""
        value = self._value_column()
        partition = [grouped] if grouped is not None else []
        inner = sa.select(
            value.label("val"),
            *( [grouped] if grouped is not None else []),
            sa.func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            sa.func.count().over(partition_by=partition).label("cnt"),
        ).select_from(self.store.table).where(*where, value.is_not(None)).subquery()
        middle = sa.or_(inner.c.rn == (inner.c.cnt + 1) / 2, inner.c.rn == (inner.c.cnt + 2) / 2)
        columns: list[Any] = [sa.func.avg(inner.c.val).label("v")]
        if grouped is not None:
            columns.append(inner.c.g)
        statement = sa.select(*columns).where(middle)
        if grouped is not None:
            statement = statement.group_by(inner.c.g)
        result = {row.get("g"): number(row["v"])
                  for row in db.session.execute(statement).mappings()}
        if grouped is None and None not in result:
            result[None] = None
        return result

    # -- drill-down -------------------------------------------------------------------------

    def drill_logic(self, window: Window | None = None, group: Group = Group(),
                    value: Any = None, extra: Any = None) -> Any:
        """JsonLogic for the records behind one number (on a ratio: its numerator's)."""
        if self.aggregate == "ratio":
            return self.parts[0].drill_logic(window, group, value, extra)
        parts: list[Any] = []
        if self.metric.get("filter") is not None:
            parts.append(self.metric["filter"])
        if window is not None and self.time_field:
            parts.append(window.as_logic(self.time_field, self.time_kind()))
        if group.period and value is not None:
            start = date.fromisoformat(str(value))
            bucket = Window(start, shift(start, group.period, 1), self.ctx.zone)
            parts.append(bucket.as_logic(self.time_field or "created_at", self.time_kind()))
        elif group.field:
            parts.append({"==": [{"var": group.field}, value]})
        if extra is not None:
            parts.append(extra)
        if self.aggregate in NUMERIC and self.metric.get("field"):
            parts.append({"!=": [{"var": self.metric["field"]}, None]})
        return {"and": parts} if parts else None


def as_of(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None
