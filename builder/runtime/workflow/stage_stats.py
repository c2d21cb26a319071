"""Figures of a stage flow, for the record page and for dashboards (funnel widgets).

- ``record_stages``: a record's visits to each stage, with the time spent in each.
- ``dwell_by_stage``: visits, average and median time spent per stage.
- ``funnel``: per stage the records in it now, the records that reached it (or went
  further), the conversion to the next stage, amounts and average dwell.
- ``weighted_forecast``: amount × stage probability, per stage and in total.

Every aggregate is computed by the database (window functions and GROUP BY over the stage
history joined with the entity's table), never by loading rows into Python. The records
counted can be narrowed by a JsonLogic filter over the entity, as in record lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from builder.database import UtcDateTime, utcnow
from builder.errors import Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.query.listing import ListQuery, conditions
from builder.runtime.storage.tables import EntityStore, entity_store
from builder.runtime.workflow.stage_flow import StageFlow, find_flow, flow_for, flows_of
from builder.runtime.workflow.stage_models import StageVisit
from builder.schema.field_types import kind_of

Figures = dict[str, Any]


class seconds_between(FunctionElement[float]):
    """Seconds from the first timestamp to the second, as a double."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (f"CAST(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)})) AS DOUBLE PRECISION)")


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (f"((julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)})) * 86400.0)")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _seconds(value: Any) -> float | None:
    return round(float(value), 3) if value is not None else None


def _money(value: Any) -> float:
    return float(round(Decimal(str(value)), 2)) if value is not None else 0.0


def flow_store(tenant_id: int, app_key: str, flow_key: str) -> tuple[StageFlow, EntityStore]:
    """The live flow ``flow_key`` of an app and the store of its entity (``NotFound``)."""
    from builder.designer.service import live_app

    _app, definition = live_app(tenant_id, app_key)
    entity = find_flow(definition, flow_key).get("entity")
    store = entity_store(tenant_id, app_key, str(entity))
    return flow_for(store, flow_key), store


def _visits() -> sa.Table:
    return StageVisit.__table__


def _history_of(flow: StageFlow, store: EntityStore) -> list[Any]:
    h = _visits()
    return [h.c.tenant_id == store.tenant_id, h.c.app_key == store.app_key,
            h.c.entity_key == store.key, h.c.flow_key == flow.key]


def _record_scope(store: EntityStore, record_filter: Any,
                  context: Mapping[str, Any] | None) -> list[Any]:
    return conditions(store, ListQuery(filter=record_filter), dict(context or {}))


def record_stages(store: EntityStore, record_id: int, flow_key: str | None = None,
                  now: datetime | None = None) -> list[Figures]:
    """The record's visits to the stages of its flows, oldest first, each with the time
    spent (``dwell_seconds``; until ``now`` for the stage it is in)."""
    h = _visits()
    moment = now or utcnow()
    flows = {f.key: f for f in ([flow_for(store, flow_key)] if flow_key else flows_of(store))}
    if not flows:
        return []
    dwell = seconds_between(h.c.entered_at,
                            sa.func.coalesce(h.c.left_at, sa.literal(moment, UtcDateTime())))
    query = sa.select(h, dwell.label("dwell")).where(
        h.c.tenant_id == store.tenant_id, h.c.app_key == store.app_key,
        h.c.entity_key == store.key, h.c.record_id == record_id,
        h.c.flow_key.in_(list(flows))).order_by(h.c.entered_at, h.c.id)
    items = []
    for row in db.session.execute(query).mappings():
        flow = flows[row["flow_key"]]
        items.append({
            "flow": flow.key, "from": row["from_stage"], "to": row["to_stage"],
            "from_title": flow.stage_title(row["from_stage"]) if row["from_stage"] else None,
            "to_title": flow.stage_title(row["to_stage"]), "by": row["moved_by"],
            "how": row["how"], "reason": row["reason"],
            "entered_at": _iso(row["entered_at"]), "left_at": _iso(row["left_at"]),
            "current": row["left_at"] is None, "dwell_seconds": _seconds(row["dwell"])})
    return items


def _dwell(flow: StageFlow, store: EntityStore, record_filter: Any,
           context: Mapping[str, Any] | None, include_open: bool,
           now: datetime) -> dict[str, Figures]:
    h, t = _visits(), store.table
    end = sa.func.coalesce(h.c.left_at, sa.literal(now, UtcDateTime())) if include_open \
        else h.c.left_at
    visits = sa.select(h.c.to_stage.label("stage"),
                       seconds_between(h.c.entered_at, end).label("seconds")).select_from(
        h.join(t, t.c.id == h.c.record_id)).where(
        *_history_of(flow, store), *_record_scope(store, record_filter, context))
    if not include_open:
        visits = visits.where(h.c.left_at.is_not(None))
    inner = visits.subquery()
    ranked = sa.select(
        inner.c.stage, inner.c.seconds,
        sa.func.row_number().over(partition_by=inner.c.stage,
                                  order_by=inner.c.seconds).label("rn"),
        sa.func.count().over(partition_by=inner.c.stage).label("n")).subquery()
    middle = sa.and_(2 * ranked.c.rn >= ranked.c.n, 2 * ranked.c.rn <= ranked.c.n + 2)
    query = sa.select(ranked.c.stage, sa.func.count().label("visits"),
                      sa.func.avg(ranked.c.seconds).label("average"),
                      sa.func.avg(sa.case((middle, ranked.c.seconds))).label("median"),
                      ).group_by(ranked.c.stage)
    return {row.stage: {"visits": int(row.visits), "average_seconds": _seconds(row.average),
                        "median_seconds": _seconds(row.median)}
            for row in db.session.execute(query)}


def dwell_by_stage(tenant_id: int, app_key: str, flow_key: str, record_filter: Any = None,
                   *, include_open: bool = False, now: datetime | None = None,
                   context: Mapping[str, Any] | None = None) -> list[Figures]:
    """Per stage of the flow, in order: ``visits`` and the ``average_seconds`` and
    ``median_seconds`` spent in it, over the live records matching ``record_filter``.

    Only finished visits count, unless ``include_open`` (then a visit still going on
    counts up to ``now``). A stage nobody has left has ``visits`` 0 and no times.
    """
    flow, store = flow_store(tenant_id, app_key, flow_key)
    found = _dwell(flow, store, record_filter, context, include_open, now or utcnow())
    empty = {"visits": 0, "average_seconds": None, "median_seconds": None}
    return [{"stage": s.key, "title": s.title, **found.get(s.key, empty)}
            for s in flow.stages]


def _current(flow: StageFlow, store: EntityStore, amount_field: str | None,
             record_filter: Any, context: Mapping[str, Any] | None
             ) -> dict[Any, tuple[int, Any]]:
    t = store.table
    stage_column = store.columns[flow.field]
    columns: list[Any] = [stage_column.label("stage"), sa.func.count().label("records")]
    if amount_field is not None:
        columns.append(sa.func.sum(store.columns[amount_field]).label("amount"))
    query = sa.select(*columns).select_from(t).where(
        *_record_scope(store, record_filter, context)).group_by(stage_column)
    return {row.stage: (int(row.records), row.amount if amount_field else None)
            for row in db.session.execute(query)}


def _amount_field(flow: StageFlow, store: EntityStore, amount_field: str | None) -> str | None:
    chosen = amount_field or flow.amount_field
    if chosen is None:
        return None
    if chosen not in store.columns or kind_of(dict(store.fields[chosen])) != "number":
        message = gettext("stages.error.amount_field", field=chosen)
        raise ValidationFailed(message, [Problem("amount_field", message, "invalid")])
    return chosen


def weighted_forecast(tenant_id: int, app_key: str, flow_key: str, record_filter: Any = None,
                      *, amount_field: str | None = None,
                      context: Mapping[str, Any] | None = None) -> Figures:
    """The weighted pipeline: per stage the live records' summed amount × the stage's win
    probability, and the total. ``amount_field`` defaults to the flow's ``amount_field``."""
    flow, store = flow_store(tenant_id, app_key, flow_key)
    field = _amount_field(flow, store, amount_field)
    if field is None:
        return {"amount_field": None, "total": 0.0, "stages": []}
    current = _current(flow, store, field, record_filter, context)
    stages, total = [], Decimal(0)
    for stage in flow.stages:
        count, amount = current.get(stage.key, (0, None))
        weighted = _weigh(amount, stage.probability)
        total += weighted
        stages.append({"stage": stage.key, "title": stage.title, "count": count,
                       "probability": stage.probability, "amount": _money(amount),
                       "weighted": _money(weighted)})
    return {"amount_field": field, "total": _money(total), "stages": stages}


def _weigh(amount: Any, probability: float | None) -> Decimal:
    if amount is None or probability is None:
        return Decimal(0)
    return Decimal(str(amount)) * Decimal(str(probability)) / Decimal(100)


def _reached(flow: StageFlow, store: EntityStore, record_filter: Any,
             context: Mapping[str, Any] | None) -> dict[str, int]:
    """Records that reached each stage: open and won stages count the records that got
    there or further; a lost stage counts the records that were ever in it."""
    h, t = _visits(), store.table
    ranks = {s.key: flow.rank(s.key) for s in flow.stages if s.terminal != "lost"}
    rank = sa.case(ranks, value=h.c.to_stage, else_=None) if ranks else sa.null()
    joined = h.join(t, t.c.id == h.c.record_id)
    scope = [*_history_of(flow, store), *_record_scope(store, record_filter, context)]
    per_record = sa.select(h.c.record_id, sa.func.max(rank).label("top")).select_from(
        joined).where(*scope).group_by(h.c.record_id).subquery()
    tops = {row.top: int(row.n) for row in db.session.execute(
        sa.select(per_record.c.top, sa.func.count().label("n")).where(
            per_record.c.top.is_not(None)).group_by(per_record.c.top))}
    lost = [s.key for s in flow.stages if s.terminal == "lost"]
    reached = {key: sum(n for top, n in tops.items() if top >= rank_of)
               for key, rank_of in ranks.items()}
    if lost:
        query = sa.select(h.c.to_stage, sa.func.count(sa.distinct(h.c.record_id))).select_from(
            joined).where(*scope, h.c.to_stage.in_(lost)).group_by(h.c.to_stage)
        reached.update({key: 0 for key in lost})
        reached.update({stage: int(n) for stage, n in db.session.execute(query)})
    return reached


def funnel(tenant_id: int, app_key: str, flow_key: str, record_filter: Any = None, *,
           amount_field: str | None = None, now: datetime | None = None,
           context: Mapping[str, Any] | None = None) -> Figures:
    """Everything a funnel widget shows, per stage in order: ``current`` (records in the
    stage now), ``reached`` (records that got to it or further), ``conversion`` (share of
    those that reached the next stage), ``amount``/``weighted`` (with an amount field),
    ``average_seconds``/``median_seconds`` (finished visits); plus the weighted
    ``forecast`` total."""
    flow, store = flow_store(tenant_id, app_key, flow_key)
    field = _amount_field(flow, store, amount_field)
    current = _current(flow, store, field, record_filter, context)
    reached = _reached(flow, store, record_filter, context)
    dwell = _dwell(flow, store, record_filter, context, False, now or utcnow())
    stages, total = [], Decimal(0)
    for stage in flow.stages:
        count, amount = current.get(stage.key, (0, None))
        following = flow.next_stage(stage.key) if stage.terminal is None else None
        conversion = None
        if following is not None and reached.get(stage.key):
            conversion = round(reached.get(following, 0) / reached[stage.key], 4)
        item: Figures = {"stage": stage.key, "title": stage.title, "terminal": stage.terminal,
                         "probability": stage.probability, "current": count,
                         "reached": reached.get(stage.key, 0), "next": following,
                         "conversion": conversion,
                         **dwell.get(stage.key, {"visits": 0, "average_seconds": None,
                                                 "median_seconds": None})}
        if field is not None:
            weighted = _weigh(amount, stage.probability)
            total += weighted
            item.update(amount=_money(amount), weighted=_money(weighted))
        stages.append(item)
    return {"flow": flow.key, "title": flow.title, "amount_field": field, "stages": stages,
            "forecast": _money(total) if field is not None else None}
