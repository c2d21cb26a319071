"""Records of other entities that point at a record through a relation field (the
follow-ups of a lead, the opportunities of a customer).

Rules count them with the platform's ``$count.<entity>.<field>``; SLA clocks re-check
their stop condition when such a record changes, and the ``no_activity`` trigger counts
their creation as activity.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.runtime.records.events import RecordChange
from builder.runtime.storage.tables import EntityStore
from builder.schema.counts import COUNT_VAR

_COUNTED = re.compile(re.escape(COUNT_VAR) + r"\.([a-z][a-z0-9_]*)\.")


def relation_fields(source: EntityStore, target: str) -> list[str]:
    """The live relation fields of ``source`` that point at entity ``target``."""
    return [key for key, field in source.fields.items()
            if field.get("type") == "relation" and field.get("entity") == target
            and key in source.columns]


def counted_entities(logic: Any) -> set[str]:
    """The entities a rule counts through ``$count.<entity>.<field>``."""
    return set(_COUNTED.findall(json.dumps(logic, default=str))) if logic is not None \
        else set()


def links(source: EntityStore, target: str, record_id: Any) -> sa.ColumnElement[bool]:
    """Rows of ``source`` that are live and point at ``record_id`` (an id, or a column for
    a correlated subquery) of ``target``."""
    table = source.table
    keys = relation_fields(source, target)
    if not keys:
        return sa.false()
    return sa.and_(table.c.deleted == sa.false(),
                   sa.or_(*(source.columns[k] == record_id for k in keys)))


def pointed_at(change: RecordChange, target: str) -> set[int]:
    """Ids of ``target`` records the changed record points at, before or after."""
    ids: set[int] = set()
    for key in relation_fields(change.store, target):
        for values in (change.before or {}, change.after):
            value = values.get(key) if isinstance(values, Mapping) else None
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
    return ids
