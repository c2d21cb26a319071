"""``$count`` in the rule context: how many files, rows and pointing records a record has.

The names are defined in ``builder.schema.counts``. Counts of the record's own fields come
from the record as it is being saved (so a rule sees the files just uploaded); counts of
records pointing at it are one ``COUNT(*)`` each, run only when a rule reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tables import EntityStore
from builder.schema.counts import COUNT_VAR, counted_fields, inbound_relations
from builder.schema.related import FLOW_VAR, REL_VAR


class RecordCounts(Mapping[str, Any]):
    """``$count`` of one record: ``counts["lines"]`` → 3,
    ``counts["decision_member"]["opportunity"]`` → 2 (queried on first use)."""

    def __init__(self, store: EntityStore, stores: Mapping[str, EntityStore],
                 record: Mapping[str, Any], record_id: int | None) -> None:
        self._record = record
        self._own, inbound = _names(store)
        self._inbound = {entity: fields for entity, fields in inbound.items()
                         if entity in stores}
        self._stores = stores
        self._record_id = record_id

    def __getitem__(self, name: str) -> Any:
        if name in self._own:
            items = self._record.get(name)
            return len(items) if isinstance(items, list) else 0
        if name in self._inbound:
            return _InboundCounts(self._stores[name], self._inbound[name], self._record_id)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._own
        yield from self._inbound

    def __len__(self) -> int:
        return len(self._own) + len(self._inbound)


_cache: dict[tuple[int, str, str], tuple[list[str], dict[str, list[str]]]] = {}


def _names(store: EntityStore) -> tuple[list[str], dict[str, list[str]]]:
    """The entity's counted fields and pointing relations, cached per app revision."""
    key = (store.app_id, store.revision, store.key)
    found = _cache.get(key)
    if found is None:
        own = counted_fields(store.fields)
        inbound: dict[str, list[str]] = {}
        for entity, field in inbound_relations(store.app, store.key):
            if entity not in own:
                inbound.setdefault(entity, []).append(field)
        if len(_cache) > 2000:
            _cache.clear()
        found = _cache[key] = (own, inbound)
    return found


class _InboundCounts(Mapping[str, int]):
    """Live records of one entity pointing at the record, per relation field."""

    def __init__(self, store: EntityStore, fields: list[str], record_id: int | None) -> None:
        self._store = store
        self._fields = fields
        self._record_id = record_id
        self._cache: dict[str, int] = {}

    def __getitem__(self, field: str) -> int:
        if field not in self._fields:
            raise KeyError(field)
        if field not in self._cache:
            self._cache[field] = count_pointing(self._store, field, self._record_id)
        return self._cache[field]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


def count_pointing(store: EntityStore, field: str, record_id: int | None) -> int:
    """How many live records of ``store`` have ``field`` pointing at ``record_id``."""
    column = store.columns.get(field)
    if record_id is None or column is None:
        return 0
    table = store.table
    return int(db.session.execute(sa.select(sa.func.count()).select_from(table).where(
        column == record_id, table.c.deleted == sa.false())).scalar_one())


def with_counts(context: Mapping[str, Any], store: EntityStore,
                stores: Mapping[str, EntityStore], record: Mapping[str, Any],
                record_id: int | None) -> dict[str, Any]:
    """``context`` plus ``$count``, ``$rel`` and ``$flow`` (``builder.runtime.records.related``) of
    ``record`` (read lazily, so later edits of the same ``record`` mapping are seen)."""
    from builder.runtime.records.related import FlowFacts, RelatedRecords

    return {**context, COUNT_VAR: RecordCounts(store, stores, record, record_id),
            REL_VAR: RelatedRecords(store, stores, record), FLOW_VAR: FlowFacts(store, record)}
