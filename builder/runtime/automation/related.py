"""Records of other entities that point at a record through a relation field (the
follow-ups of a lead, the opportunities of a customer).

Rules reach them as ``$related.<entity>.count`` and ``$related.<entity>.latest`` (the
newest one's ``created_at``); the ``no_activity`` trigger counts them as activity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.automation.context import iso
from builder.runtime.records.events import RecordChange
from builder.runtime.storage.tables import EntityStore, sibling_stores

PREFIX = "$related."


def relation_fields(source: EntityStore, target: str) -> list[str]:
    """The live relation fields of ``source`` that point at entity ``target``."""
    return [key for key, field in source.fields.items()
            if field.get("type") == "relation" and field.get("entity") == target
            and key in source.columns]


def named_entities(logic: Any) -> set[str]:
    """The entities a rule reads through ``$related.<entity>...``."""
    text = json.dumps(logic, default=str)
    found: set[str] = set()
    start = text.find(PREFIX)
    while start >= 0:
        rest = text[start + len(PREFIX):]
        name = rest.split(".", 1)[0].split('"', 1)[0]
        if name:
            found.add(name)
        start = text.find(PREFIX, start + 1)
    return found


def links(source: EntityStore, target: str, record_id: Any) -> sa.ColumnElement[bool]:
    """Rows of ``source`` that are live and point at ``record_id`` (an id, or a column for
    a correlated subquery) of ``target``."""
    table = source.table
    keys = relation_fields(source, target)
    if not keys:
        return sa.false()
    return sa.and_(table.c.deleted == sa.false(),
                   sa.or_(*(source.columns[k] == record_id for k in keys)))


def summary(store: EntityStore, record_id: int, entities: Iterable[str]
            ) -> dict[str, dict[str, Any]]:
    """``{entity: {"count", "latest"}}`` of the records pointing at the record."""
    stores = sibling_stores(store)
    result: dict[str, dict[str, Any]] = {}
    for name in sorted(entities):
        source = stores.get(name)
        if source is None:
            continue
        count, latest = db.session.execute(
            sa.select(sa.func.count(), sa.func.max(source.table.c.created_at))
            .where(links(source, store.key, record_id))).one()
        if latest is not None and latest.tzinfo is None:
            from datetime import UTC

            latest = latest.replace(tzinfo=UTC)
        result[name] = {"count": int(count), "latest": iso(latest) if latest else None}
    return result


def pointed_at(change: RecordChange, target: str) -> set[int]:
    """Ids of ``target`` records the changed record points at, before or after."""
    ids: set[int] = set()
    for key in relation_fields(change.store, target):
        for values in (change.before or {}, change.after):
            value = values.get(key) if isinstance(values, Mapping) else None
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
    return ids
