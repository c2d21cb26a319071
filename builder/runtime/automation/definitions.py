"""The automations and SLA policies of a published app, indexed by entity.

Definitions are read from the live app definition (``EntityStore.app``) and indexed once
per app revision, so every process sees the same published truth.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.runtime.storage.tables import EntityStore


@dataclass(frozen=True)
class Automation:
    """One enabled automation of an app."""

    app_key: str
    key: str
    entity: str
    trigger: Mapping[str, Any]
    actions: tuple[Mapping[str, Any], ...]
    condition: Any = None
    title: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def trigger_type(self) -> str:
        return str(self.trigger.get("type", ""))

    @classmethod
    def from_definition(cls, app_key: str, data: Mapping[str, Any]) -> Automation:
        return cls(app_key, str(data["key"]), str(data["entity"]), data.get("trigger") or {},
                   tuple(data.get("actions") or ()), data.get("condition"),
                   data.get("title") or {})


@dataclass(frozen=True)
class SlaPolicy:
    """One SLA policy of an app (see ``builder.runtime.automation.sla``)."""

    app_key: str
    key: str
    entity: str
    start: str
    minutes: int
    stop: Any = None
    field: str | None = None
    stage: str | None = None
    flow: str | None = None
    working_hours: Mapping[str, Any] | None = None
    escalations: tuple[Mapping[str, Any], ...] = ()
    title: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_definition(cls, app_key: str, data: Mapping[str, Any]) -> SlaPolicy:
        return cls(app_key, str(data["key"]), str(data["entity"]),
                   str(data.get("start") or "created"), int(data["minutes"]),
                   data.get("stop"), data.get("field"), data.get("stage"), data.get("flow"),
                   data.get("working_hours"), tuple(data.get("escalations") or ()),
                   data.get("title") or {})


@dataclass(frozen=True)
class AppProcesses:
    """An app's enabled automations and SLA policies, by key and by entity."""

    automations: Mapping[str, Automation]
    policies: Mapping[str, SlaPolicy]

    def automations_for(self, entity: str) -> list[Automation]:
        return [a for a in self.automations.values() if a.entity == entity]

    def policies_for(self, entity: str) -> list[SlaPolicy]:
        return [p for p in self.policies.values() if p.entity == entity]


def build(app: Mapping[str, Any]) -> AppProcesses:
    app_key = str(app.get("key", ""))
    automations = {str(a["key"]): Automation.from_definition(app_key, a)
                   for a in app.get("automations") or () if a.get("enabled", True)}
    policies = {str(p["key"]): SlaPolicy.from_definition(app_key, p)
                for p in app.get("sla_policies") or ()}
    return AppProcesses(automations, policies)


_cache: dict[tuple[int, str], AppProcesses] = {}
_lock = threading.Lock()


def live_store(tenant_id: int, app_key: str, entity: str) -> EntityStore | None:
    """The live store of an entity, or ``None`` when its app or entity is gone (a timer
    set under an earlier definition)."""
    from builder.errors import NotFound
    from builder.runtime.storage.tables import entity_store

    try:
        return entity_store(tenant_id, app_key, entity)
    except NotFound:
        return None


def processes_of(store: EntityStore) -> AppProcesses:
    """The automations and SLA policies of the store's app, cached per app revision."""
    if not store.revision:
        return build(store.app)
    key = (store.app_id, store.revision)
    found = _cache.get(key)
    if found is None:
        found = build(store.app)
        with _lock:
            if len(_cache) > 2000:
                _cache.clear()
            _cache[key] = found
    return found
