"""``$rel`` in the rule context: the records a record's relation fields point at.

``data["$rel"]["customer"]["tier"]`` is read from the database the first time a rule asks
for it, always for the relation's current (proposed) value, and kept for the rest of the
request's evaluation of that record. Names are checked by the linker
(``builder.schema.related``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from builder.runtime.records import rows
from builder.runtime.storage.tables import EntityStore
from builder.schema.related import relation_targets


class RelatedRecords(Mapping[str, Mapping[str, Any]]):
    """``$rel`` of one record: ``related["customer"]`` → the customer record (JSON), or an
    empty mapping while the relation is empty or points at nothing alive."""

    def __init__(self, store: EntityStore, stores: Mapping[str, EntityStore],
                 record: Mapping[str, Any]) -> None:
        self._stores = stores
        self._record = record
        self._targets = relation_targets(store.fields)
        self._cache: dict[tuple[str, int], Mapping[str, Any]] = {}

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        if name not in self._targets:
            raise KeyError(name)
        target = self._stores.get(self._targets[name])
        value = self._record.get(name)
        if target is None or not isinstance(value, int) or not 0 < value <= rows.MAX_ID:
            return {}
        key = (target.key, value)
        if key not in self._cache:
            found = rows.read_records(target, self._stores, [value]).get(value)
            self._cache[key] = found if found and not found.get("deleted") else {}
        return self._cache[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


class FlowFacts(Mapping[str, Mapping[str, Any]]):
    """``$flow`` of one record: ``facts["funnel"]["probability"]`` of its current stage."""

    def __init__(self, store: EntityStore, record: Mapping[str, Any]) -> None:
        self._record = record
        self._flows = {str(f["key"]): f for f in store.app.get("stage_flows") or []
                       if f.get("entity") == store.key and isinstance(f.get("key"), str)}

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        flow = self._flows[name]
        current = self._record.get(str(flow.get("field")))
        for position, stage in enumerate(flow.get("stages") or [], start=1):
            if stage.get("key") == current:
                return {"stage": current, "probability": stage.get("probability"),
                        "terminal": stage.get("terminal"), "position": position}
        return {}

    def __iter__(self) -> Iterator[str]:
        return iter(self._flows)

    def __len__(self) -> int:
        return len(self._flows)
