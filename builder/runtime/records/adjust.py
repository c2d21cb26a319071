"""Atomic adjustments of one number field of a record, with a bound.

``RecordService.adjust`` adds a delta to a field in one conditional UPDATE
(``SET qty = qty + :delta WHERE id = :id AND (qty + :delta >= :low OR <override>)``), so
two writers taking the last unit of stock at once cannot both succeed: the database
decides, whatever the number of processes. The row is locked first (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite transactions are writers from their ``BEGIN IMMEDIATE``),
so the before-image the audit trail and the listeners see is exact.

A bound applies only in the direction of the change: lowering checks ``low``, raising
checks ``high``; a return that raises a negative stock is never refused. ``override``
names a boolean field that lifts the bounds when true: one of the record
(``allow_backorder``) or, through one of its relation fields, of the related record
(``store.allow_backorder``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.extensions import db
from builder.runtime.records import audit, events, rows
from builder.runtime.storage.tables import EntityStore

if TYPE_CHECKING:
    from builder.runtime.records.service import RecordService

#: a bound: a number, or the key of a number field of the same record
Bound = float | int | str | None


@dataclass
class Adjusted:
    """The outcome of one adjustment: ``applied`` with both images; refused by its bound
    with the value the record had (``available``); or ``missing`` (no live record)."""

    applied: bool
    available: Any
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    missing: bool = False


def _bound_expr(store: EntityStore, bound: Bound) -> Any:
    if isinstance(bound, str):
        column = store.columns.get(bound)
        if column is None:
            raise ValueError(f"unknown bound field {bound!r}")
        return sa.func.coalesce(column, 0)
    return sa.literal(bound)


def override_condition(store: EntityStore, stores: Mapping[str, EntityStore],
                       path: str | None) -> ColumnElement[bool] | None:
    """SQL for "the bound does not apply": a boolean field of the record, or of the record
    one of its relation fields points at (``relation.field``)."""
    if not path:
        return None
    head, _, rest = path.partition(".")
    if not rest:
        column = store.columns.get(head)
        return None if column is None else column == sa.true()
    relation = store.fields.get(head) or {}
    target = stores.get(str(relation.get("entity")))
    if relation.get("type") != "relation" or target is None or head not in store.columns \
            or rest not in target.columns:
        return None
    other = target.table
    return sa.exists(sa.select(other.c.id).where(
        other.c.id == store.columns[head], other.c.deleted == sa.false(),
        target.columns[rest] == sa.true()))


def adjust(service: RecordService, record_id: int, field: str, delta: float, now: datetime,
           low: Bound = None, high: Bound = None, override: str | None = None) -> Adjusted:
    """Add ``delta`` to ``field`` of one record, audited and announced to the listeners as
    an update; refused (nothing written) when the result would leave ``[low, high]`` or
    the record is deleted or does not exist."""
    store = service.store
    table, column = store.table, store.columns[field]
    row = db.session.execute(sa.select(table).where(table.c.id == record_id)
                             .with_for_update()).mappings().first()
    if row is None or row["deleted"]:
        return Adjusted(False, None, missing=True)
    before = rows.to_output(store, row)
    rows.attach_children(store, service.stores, [before])
    current = before.get(field) or 0
    proposed = dict(before, **{field: current + delta})
    events.record_hooks.check(events.RecordChange(
        events.UPDATE, store, service.stores, service.user, now, before, proposed,
        frozenset({field}), record_id, events.acting_engine()))
    value = sa.func.coalesce(column, 0) + sa.bindparam("delta", delta, type_=column.type)
    checks: list[ColumnElement[bool]] = []
    if delta < 0 and low is not None:
        checks.append(value >= _bound_expr(store, low))
    if delta > 0 and high is not None:
        checks.append(value <= _bound_expr(store, high))
    where: list[ColumnElement[bool]] = [table.c.id == record_id, table.c.deleted == sa.false()]
    if checks:
        allowed = override_condition(store, service.stores, override)
        where.append(sa.or_(sa.and_(*checks), allowed) if allowed is not None
                     else sa.and_(*checks))
    written = db.session.execute(sa.update(table).where(*where).values(
        {column.name: value, "version": table.c.version + 1, "updated_at": now,
         "updated_by": service.user_id}).returning(*table.c)).mappings().first()
    if written is None:
        return Adjusted(False, current, before)
    after = rows.to_output(store, written)
    rows.attach_children(store, service.stores, [after])
    audit.append(store, record_id, audit.UPDATE, service.user_id, now, before, after)
    events.record_hooks.notify(events.RecordChange(
        events.UPDATE, store, service.stores, service.user, now, before, after,
        frozenset({field}), record_id, events.acting_engine()))
    return Adjusted(True, current, before, after)
