"""The record-event seam: guards refuse before anything is written, listeners run in the
writer's transaction, engine writes are marked, and runaway chains stop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from builder.errors import Problem, ValidationFailed
from builder.extensions import db
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import publish


def _definition() -> dict[str, Any]:
    note = entity("note", "便签", "Note", [field("text", "text", "内容", "Text"),
                                            field("hits", "number", "次数", "Hits")])
    definition = minimal_app(note)
    definition["key"] = "notes"
    return definition


@pytest.fixture
def hooks() -> Iterator[list[events.RecordChange]]:
    seen: list[events.RecordChange] = []
    yield seen
    for name in ("test.guard", "test.listener"):
        events.record_hooks.remove(name)


@pytest.fixture
def service(client: Any, admin: Any, admin_headers: Any) -> RecordService:
    publish(client, admin_headers, _definition())
    return RecordService(entity_store(admin.tenant_id, "notes", "note"), admin)


def _count(service: RecordService) -> int:
    table = service.store.table
    return int(db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_listeners_see_every_action_with_before_after_and_changes(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    events.record_hooks.listener("test.listener")(hooks.append)
    record = service.create({"text": "a", "hits": 1})
    service.update(record["id"], {"hits": 2}, record["version"])
    service.open(record["id"])
    service.delete(record["id"])
    service.restore(record["id"])
    assert [c.action for c in hooks] == ["create", "update", "read", "delete", "restore"]
    create, update = hooks[0], hooks[1]
    assert create.before is None and create.after["text"] == "a"
    assert create.changed == {"text", "hits"} and create.record_id == record["id"]
    assert update.before is not None and update.before["hits"] == 1
    assert update.after["hits"] == 2 and update.changed == {"hits"}
    assert update.engine is None and update.user_id == service.user_id


def test_a_guard_refuses_before_anything_is_written(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    def refuse(change: events.RecordChange) -> None:
        if change.after.get("text") == "forbidden" and events.acting_engine() != "test":
            raise ValidationFailed("no", [Problem("text", "not this text", "refused")])

    events.record_hooks.guard("test.guard")(refuse)
    with pytest.raises(ValidationFailed) as caught:
        service.create({"text": "forbidden"})
    assert caught.value.details[0].path == "text"
    assert _count(service) == 0
    with events.acting("test"):
        record = service.create({"text": "forbidden"})
    assert record["text"] == "forbidden"


def test_a_failing_listener_undoes_the_whole_change(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    record = service.create({"text": "kept", "hits": 1})

    def fail(change: events.RecordChange) -> None:
        raise RuntimeError("listener failed")

    events.record_hooks.listener("test.listener")(fail)
    with pytest.raises(RuntimeError):
        service.update(record["id"], {"hits": 5}, record["version"])
    assert service.get(record["id"])["hits"] == 1
    assert [h["action"] for h in service.history(record["id"])] == ["create"]


def test_listener_writes_commit_with_the_change_and_show_in_the_result(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    def bump(change: events.RecordChange) -> None:
        if change.action == "create":
            inner = RecordService(change.store, change.user, commit=False)
            with events.acting("test"):
                inner.update(change.record_id or 0, {"hits": 100}, 1)

    events.record_hooks.listener("test.listener")(bump)
    record = service.create({"text": "x"})
    assert record["hits"] == 100 and record["version"] == 2


def test_a_chain_that_keeps_triggering_itself_stops(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    def again(change: events.RecordChange) -> None:
        if change.action == "update" or change.action == "create":
            inner = RecordService(change.store, change.user, commit=False)
            current = inner.get(change.record_id or 0)
            inner.update(current["id"], {"hits": (current["hits"] or 0) + 1},
                         current["version"])

    events.record_hooks.listener("test.listener")(again)
    with pytest.raises(events.TooDeep):
        service.create({"text": "loop"})
    assert _count(service) == 0


def test_process_events_reach_their_subscribers_only(
        service: RecordService, hooks: list[events.RecordChange]) -> None:
    got: list[events.ProcessEvent] = []
    events.record_hooks.on("stage_entered", "test.listener")(got.append)
    record = service.create({"text": "x"})
    for name in ("stage_entered", "approval_decided"):
        events.record_hooks.emit(events.ProcessEvent(name, service.store, record["id"],
                                                     service.user, events_now(),
                                                     {"to": "won"}))
    assert [(e.name, e.data["to"], e.record_id) for e in got] == [
        ("stage_entered", "won", record["id"])]


def events_now() -> Any:
    from builder.database import utcnow

    return utcnow()
