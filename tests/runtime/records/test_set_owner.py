"""``RecordService.set_owner``: the assignee changes like any field: guarded, audited,
announced; optionally only if nobody changed it first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from builder.errors import Conflict, Forbidden
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import publish


@pytest.fixture
def notes(client: Any, admin: Any, admin_headers: Any) -> RecordService:
    note = entity("note", "便签", "Note", [field("text", "text", "内容", "Text"),
                                            field("helper", "user", "协办人", "Helper")])
    definition = minimal_app(note)
    definition["key"] = "notes"
    publish(client, admin_headers, definition)
    return RecordService(entity_store(admin.tenant_id, "notes", "note"), admin)


@pytest.fixture
def seen() -> Iterator[list[events.RecordChange]]:
    changes: list[events.RecordChange] = []
    events.record_hooks.listener("test.owner")(changes.append)
    yield changes
    events.record_hooks.remove("test.owner")
    events.record_hooks.remove("test.owner_guard")


def test_owner_changes_are_audited_and_announced(notes, admin, make_user, tenant, seen):
    rep = make_user(tenant, "rep")
    record = notes.create({"text": "a"})
    assert record["owner"] == admin.id
    moved = notes.set_owner(record["id"], rep.id, version=record["version"])
    assert moved["owner"] == rep.id and moved["version"] == record["version"] + 1
    assert notes.set_owner(record["id"], rep.id) == moved  # no change, nothing written
    helper = notes.set_owner(record["id"], admin.id, field="helper")
    assert helper["helper"] == admin.id and helper["owner"] == rep.id

    history = notes.history(record["id"])
    assert [h["changes"] for h in history[:2]] == [{"helper": [None, admin.id]},
                                                  {"owner": [admin.id, rep.id]}]
    assert [(c.action, c.changed) for c in seen] == [
        ("create", frozenset({"text"})), ("update", frozenset({"owner"})),
        ("update", frozenset({"helper"}))]
    assert seen[1].before["owner"] == admin.id and seen[1].after["owner"] == rep.id


def test_stale_versions_and_lost_races_change_nothing(notes, make_user, tenant):
    first, second = make_user(tenant, "first"), make_user(tenant, "second")
    record = notes.create({"text": "a"})
    assert notes.set_owner(record["id"], None)["owner"] is None
    with pytest.raises(Conflict) as stale:
        notes.set_owner(record["id"], first.id, version=record["version"])
    assert stale.value.extra["current_version"] == record["version"] + 1
    claimed = notes.set_owner(record["id"], first.id, expect=None)
    assert claimed["owner"] == first.id
    with pytest.raises(Conflict) as taken:
        notes.set_owner(record["id"], second.id, expect=None)
    assert taken.value.extra["holder"] == first.id
    assert notes.get(record["id"])["owner"] == first.id


def test_guards_may_refuse_and_engines_may_pass(notes, make_user, tenant, seen):
    rep = make_user(tenant, "rep")

    def locked(change: events.RecordChange) -> None:
        if "owner" in change.changed and events.acting_engine() != "assignment":
            raise Forbidden("locked")

    events.record_hooks.guard("test.owner_guard")(locked)
    record = notes.create({"text": "a"})
    with pytest.raises(Forbidden):
        notes.set_owner(record["id"], rep.id)
    assert notes.get(record["id"])["owner"] != rep.id
    with events.acting("assignment"):
        assert notes.set_owner(record["id"], rep.id)["owner"] == rep.id
