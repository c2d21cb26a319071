"""Publishing: plans first, all-or-nothing, data kept through type changes and deletes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from builder.designer.models import App
from builder.extensions import db
from builder.runtime.storage.models import EntityTable, FieldColumn
from builder.runtime.storage.tables import entity_store
from tests.designer.helpers import (
    field_of,
    import_and_publish,
    items_app,
    publish_draft,
    title,
    with_fields,
)

ROWS = 10_000


def _seed(app: Any, tenant_id: int, rows: int) -> None:
    """Fill the item table directly: the rows are the setting, not what is tested."""
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    store = entity_store(tenant_id, "inventory", "item")
    name, code, amount = (store.columns[k].name for k in ("name", "code", "amount"))
    db.session.execute(sa.insert(store.table), [
        {"created_at": stamp, "updated_at": stamp, name: f"物品 {i}",
         code: "A-17" if i % 1000 == 7 else str(i), amount: i}
        for i in range(rows)])
    db.session.commit()


def _snapshot(app: Any, tenant_id: int) -> list[tuple[Any, ...]]:
    store = entity_store(tenant_id, "inventory", "item")
    columns = [store.table.c.id, store.table.c.version,
               *(store.columns[k] for k in ("name", "code", "amount"))]
    rows = [tuple(r) for r in db.session.execute(
        sa.select(*columns).order_by(store.table.c.id)).all()]
    db.session.commit()
    return rows


def _schema_state(app: Any, tenant_id: int) -> dict[str, Any]:
    application = db.session.scalars(sa.select(App).where(App.tenant_id == tenant_id)).one()
    tables = db.session.scalars(sa.select(EntityTable)).all()
    columns = db.session.scalars(sa.select(FieldColumn).order_by(FieldColumn.id)).all()
    store = entity_store(tenant_id, "inventory", "item")
    state = {
        "live": (application.live_version, application.live_revision),
        "tables": [(t.id, t.entity_key, t.state) for t in tables],
        "columns": [(c.id, c.field_key, c.field_type, c.state, c.field_def) for c in columns],
    }
    inspector = sa.inspect(db.session.connection())
    state["physical"] = sorted(c["name"] for c in inspector.get_columns(
        store.table.name, schema=store.table.schema))
    db.session.commit()
    return state


def test_adding_a_field_keeps_every_record(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    _seed(app, admin.tenant_id, ROWS)
    before = _snapshot(app, admin.tenant_id)

    fields = [*definition["entities"][0]["fields"],
              {"key": "note", "type": "long_text", "title": title("备注", "Note")}]
    response = publish_draft(client, admin_headers, with_fields(definition, fields))
    assert response.status_code == 200, response.get_json()

    assert _snapshot(app, admin.tenant_id) == before
    listed = client.get("/api/apps/inventory/item/records?limit=1&count=true",
                        headers=admin_headers).get_json()
    assert listed["total"] == ROWS
    assert listed["items"][0]["note"] is None


def test_plan_then_refused_type_change_changes_nothing(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    _seed(app, admin.tenant_id, 3000)
    store = entity_store(admin.tenant_id, "inventory", "item")
    bad_ids = [r for (r,) in db.session.execute(
        sa.select(store.table.c.id).where(store.columns["code"] == "A-17")
        .order_by(store.table.c.id))]
    db.session.commit()
    assert len(bad_ids) == 3
    state_before, data_before = _schema_state(app, admin.tenant_id), _snapshot(app, admin.tenant_id)

    fields = [dict(f) for f in definition["entities"][0]["fields"]]
    field_of({"entities": [{"fields": fields}]}, "code")["type"] = "number"
    changed = with_fields(definition, fields)
    response = client.put("/api/apps/inventory/draft", json={"definition": changed},
                          headers=admin_headers)
    assert response.status_code == 200

    plan = client.post("/api/apps/inventory/plan", headers=admin_headers).get_json()
    assert plan["can_apply"] is False
    [step] = [s for s in plan["steps"] if s["action"] == "change_type"]
    assert step["failed_ids"] == bad_ids and step["failed_count"] == 3

    response = client.post("/api/apps/inventory/publish", headers=admin_headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"][0]["path"] == "entities.item.fields.code.type"
    assert all(str(i) in error["details"][0]["message"] for i in bad_ids)

    assert _schema_state(app, admin.tenant_id) == state_before
    assert _snapshot(app, admin.tenant_id) == data_before


def test_type_change_converts_when_every_value_fits(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    created = client.post("/api/apps/inventory/item/records",
                          json={"data": {"name": "螺丝", "code": "0042", "amount": 5}},
                          headers=admin_headers).get_json()
    fields = [dict(f) for f in definition["entities"][0]["fields"]]
    fields[1]["type"] = "number"
    assert publish_draft(client, admin_headers, with_fields(definition, fields)).status_code == 200
    record = client.get(f"/api/apps/inventory/item/records/{created['id']}",
                        headers=admin_headers).get_json()
    assert record["code"] == 42


def test_deleted_field_is_hidden_and_restored_with_its_values(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    created = client.post("/api/apps/inventory/item/records",
                          json={"data": {"name": "垫片", "code": "X-1", "amount": 9}},
                          headers=admin_headers).get_json()

    without_code = with_fields(definition, [f for f in definition["entities"][0]["fields"]
                                            if f["key"] != "code"])
    assert publish_draft(client, admin_headers, without_code).status_code == 200
    hidden = client.get(f"/api/apps/inventory/item/records/{created['id']}",
                        headers=admin_headers).get_json()
    assert "code" not in hidden and hidden["name"] == "垫片"

    assert publish_draft(client, admin_headers, definition).status_code == 200
    restored = client.get(f"/api/apps/inventory/item/records/{created['id']}",
                          headers=admin_headers).get_json()
    assert restored["code"] == "X-1"


def test_rollback_brings_back_a_field_and_its_values(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    created = client.post("/api/apps/inventory/item/records",
                          json={"data": {"name": "轴承", "code": "B-2", "amount": 1}},
                          headers=admin_headers).get_json()
    without_code = with_fields(definition, [f for f in definition["entities"][0]["fields"]
                                            if f["key"] != "code"])
    assert publish_draft(client, admin_headers, without_code).status_code == 200

    response = client.post("/api/apps/inventory/rollback", json={"version": 1},
                           headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["number"] == 3
    record = client.get(f"/api/apps/inventory/item/records/{created['id']}",
                        headers=admin_headers).get_json()
    assert record["code"] == "B-2"
    versions = client.get("/api/apps/inventory/versions", headers=admin_headers).get_json()
    assert [v["number"] for v in versions] == [3, 2, 1]


def test_purge_drops_hidden_data_for_good(app, client, admin, admin_headers):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    created = client.post("/api/apps/inventory/item/records",
                          json={"data": {"name": "弹簧", "code": "S-9"}},
                          headers=admin_headers).get_json()
    without_code = with_fields(definition, [f for f in definition["entities"][0]["fields"]
                                            if f["key"] != "code"])
    assert publish_draft(client, admin_headers, without_code).status_code == 200
    response = client.post("/api/apps/inventory/purge", json={"entity": "item"},
                           headers=admin_headers)
    assert response.get_json() == {"dropped": 1}
    assert publish_draft(client, admin_headers, definition).status_code == 200
    record = client.get(f"/api/apps/inventory/item/records/{created['id']}",
                        headers=admin_headers).get_json()
    assert record["code"] is None


def test_only_admins_change_definitions(client, make_user, tenant, auth_headers):
    rep = make_user(tenant, "rep")
    response = client.post("/api/apps", json={"definition": items_app()},
                           headers=auth_headers(rep))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_a_failure_halfway_through_publish_leaves_everything_as_it_was(
        app, client, admin, admin_headers, monkeypatch):
    definition = items_app()
    import_and_publish(client, admin_headers, definition)
    _seed(app, admin.tenant_id, 50)
    state_before, data_before = _schema_state(app, admin.tenant_id), _snapshot(app, admin.tenant_id)

    from builder.runtime.storage import schema_editor

    def fail(self, step):  # the database goes away after the new column was added
        raise sa.exc.OperationalError("ALTER TABLE", {}, Exception("connection lost"))

    monkeypatch.setattr(schema_editor._Editor, "hide_field", fail)
    fields = [f for f in definition["entities"][0]["fields"] if f["key"] != "amount"]
    fields.append({"key": "note", "type": "text", "title": title("备注", "Note"), "index": True})
    response = publish_draft(client, admin_headers, with_fields(definition, fields))
    assert response.status_code == 500

    assert _schema_state(app, admin.tenant_id) == state_before
    assert _snapshot(app, admin.tenant_id) == data_before
