"""Loaded data (market seeds, imports, clones) passes by the hooks that did not ask for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from builder.database import utcnow
from builder.errors import Forbidden
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.runtime.records.helpers import publish


@pytest.fixture
def hooks() -> Iterator[list[str]]:
    seen: list[str] = []

    def refuse(change: events.RecordChange) -> None:
        raise Forbidden("no")

    events.record_hooks.guard("test.refuse")(refuse)
    events.record_hooks.listener("test.plain")(lambda change: seen.append("plain"))
    events.record_hooks.listener("test.loads", on_load=True)(
        lambda change: seen.append(f"loads:{events.acting_engine()}"))
    yield seen
    for name in ("test.refuse", "test.plain", "test.loads"):
        events.record_hooks.remove(name)


def test_only_hooks_registered_on_load_see_loaded_writes(client, admin, admin_headers, hooks):
    publish(client, admin_headers)
    service = RecordService(entity_store(admin.tenant_id, "crm", "customer"), admin)
    with pytest.raises(Forbidden):
        service.create({"name": "人工录入"})
    assert hooks == []
    with events.loading("market"):
        assert events.is_loading()
        service.create({"name": "模板数据"})
    assert not events.is_loading()
    assert hooks == ["loads:market"]


def test_process_events_reach_only_subscribers_on_load_while_loading(client, admin,
                                                                     admin_headers):
    publish(client, admin_headers)
    store = entity_store(admin.tenant_id, "crm", "customer")
    seen: list[str] = []
    events.record_hooks.on("test_event", "test.plain")(lambda e: seen.append("plain"))
    events.record_hooks.on("test_event", "test.loads", on_load=True)(
        lambda e: seen.append("loads"))
    try:
        event = events.ProcessEvent("test_event", store, 1, admin, utcnow())
        with events.loading("market"):
            events.record_hooks.emit(event)
        assert seen == ["loads"]
        events.record_hooks.emit(event)
        assert seen == ["loads", "plain", "loads"]
    finally:
        events.record_hooks.remove("test.plain")
        events.record_hooks.remove("test.loads")
