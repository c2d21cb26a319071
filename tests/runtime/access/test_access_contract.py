"""The access contract other parts call (scopes, rights, redaction), engines passing
freely, and sub-table rows reached through their parent."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from builder.errors import Forbidden
from builder.extensions import db
from builder.runtime import access
from builder.runtime.access import policy
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.runtime.access.helpers import APP, Org, make_org, sales_app, url
from tests.runtime.records.helpers import publish, upload


@pytest.fixture
def org(client: Any, tenant: Any, admin_headers: Any, make_user: Any) -> Org:
    definition = sales_app()
    definition["entities"][1]["fields"].append(
        {"key": "spec", "type": "attachment", "title": {"zh-CN": "规格书"}})
    publish(client, admin_headers, definition)
    return make_org(tenant, make_user)


def store(tenant_id: int, entity_key: str = "deal") -> Any:
    return entity_store(tenant_id, APP, entity_key)


def seed(org: Org) -> dict[str, dict[str, Any]]:
    """A deal (with cost) by each rep, written by an engine on their behalf."""
    made = {}
    for name in ("rep", "junior", "outsider"):
        user = getattr(org, name)
        with events.acting("test"):
            made[name] = RecordService(store(user.tenant_id), user).create(
                {"name": name, "amount": 10, "cost": 4, "lines": [{"product": "p"}]})
    return made


def test_rights_of_each_role(org: Org, admin: Any) -> None:
    deal = store(admin.tenant_id)
    assert access.can(org.rep, deal, "create") and not access.can(org.rep, deal, "export")
    assert access.can(org.auditor, deal, "export")
    assert not access.can(org.auditor, deal, "update")
    assert not access.can(org.nobody, deal, "read")
    assert all(access.can(admin, deal, action) for action in access.ACTIONS)
    with pytest.raises(Forbidden) as refused:
        access.require(org.boss, deal, "delete")
    assert refused.value.extra == {"action": "delete", "entity": "deal"}
    with pytest.raises(ValueError):
        access.can(org.rep, deal, "fly")
    everything = set(deal.fields)
    assert access.readable_fields(deal, org.rep) == everything - {"cost", "margin"}
    assert access.writable_fields(deal, org.rep) == everything - {"cost", "margin", "approved"}
    assert access.readable_fields(deal, org.boss) == everything
    assert access.writable_fields(deal, org.auditor) == set()
    assert access.readable_fields(deal, org.nobody) == set()


def test_row_scopes_stand_alone_and_drive_any_query(org: Org, admin: Any) -> None:
    deals = seed(org)
    deal = store(admin.tenant_id)
    assert access.row_scope(deal, org.rep) == {"==": [{"var": "owner"}, org.rep.id]}
    assert access.row_scope(deal, org.auditor) is None
    assert access.row_scope(deal, admin) is None
    assert access.row_scope(deal, org.nobody) is False
    assert access.row_scope(deal, org.rep, "export") is False

    def owners(user: Any) -> list[int]:
        """An aggregate, as a dashboard runs it: GROUP BY within the user's scope."""
        table = deal.table
        query = sa.select(table.c.owner, sa.func.count()).group_by(table.c.owner)
        scope = access.row_scope(deal, user)
        if scope is not None:
            query = query.where(to_sql(scope, lambda name: column_ref(deal, name)))
        return sorted(owner for owner, _ in db.session.execute(query))

    assert owners(org.rep) == [org.rep.id]
    assert owners(org.boss) == sorted([org.rep.id, org.junior.id])
    assert owners(org.auditor) == sorted(d["owner"] for d in deals.values())
    assert owners(org.nobody) == []
    recent = {"and": [{"==": [{"var": "owner"}, {"var": "$user.id"}]},
                      {"<=": [{"var": "created_at"}, {"var": "$now"}]}]}
    assert policy.bind(recent, {"$user": {"id": 7}}) == {"and": [
        {"==": [{"var": "owner"}, 7]}, {"<=": [{"var": "created_at"}, {"var": "$now"}]}]}
    condition = access.row_condition(deal, org.boss)
    assert condition is not None
    assert db.session.execute(sa.select(sa.func.count()).select_from(deal.table)
                              .where(condition)).scalar_one() == 2


def test_redaction_and_record_checks(org: Org, admin: Any) -> None:
    deals = seed(org)
    deal = store(admin.tenant_id)
    full = RecordService(deal, admin).get(deals["rep"]["id"])
    assert full["cost"] == 4 and "unit_cost" in full["lines"][0]
    redacted = access.redact(deal, org.rep, full)
    assert "cost" not in redacted and "margin" not in redacted
    assert "unit_cost" not in redacted["lines"][0] and full["cost"] == 4  # a copy
    assert access.redact(deal, org.auditor, full) == full
    access.require_record(org.rep, deal, deals["rep"]["id"])
    access.require_record(org.boss, deal, deals["junior"]["id"], "update")
    with pytest.raises(Exception) as hidden:
        access.require_record(org.rep, deal, deals["outsider"]["id"])
    assert getattr(hidden.value, "status", None) == 404
    with pytest.raises(Forbidden):
        access.require_record(org.boss, deal, deals["junior"]["id"], "delete")


def test_engines_are_not_restricted_by_the_persons_role(org: Org, admin: Any) -> None:
    deals = seed(org)  # written inside acting(): cost included although reps may not
    assert all(d["cost"] == 4 for d in deals.values())
    service = RecordService(store(admin.tenant_id), org.rep)
    with events.acting("test"):
        other = service.open(deals["outsider"]["id"])
        assert other["cost"] == 4
        changed = service.update(other["id"], {"cost": 5, "approved": True}, other["version"])
    assert changed["cost"] == 5
    engine = RecordService(store(admin.tenant_id), None)
    assert len(engine.list(_query())["items"]) == 3
    with pytest.raises(Forbidden):
        RecordService(store(admin.tenant_id), org.auditor).delete(deals["rep"]["id"])


def _query() -> Any:
    from builder.runtime.query.listing import ListQuery

    return ListQuery()


def test_sub_table_files_are_reached_through_the_parent(
        client: Any, org: Org, auth_headers: Any) -> None:
    junior = auth_headers(org.junior)
    spec = upload(client, junior, b"spec", "spec.txt").get_json()
    created = client.post(url(), headers=junior, json={
        "data": {"name": "j", "lines": [{"product": "p", "spec": [spec["id"]]}]}})
    assert created.status_code == 201, created.get_json()
    for user, status in ((org.boss, 200), (org.auditor, 200), (org.rep, 404),
                         (org.outsider, 404)):
        response = client.get(f"/api/files/{spec['id']}", headers=auth_headers(user))
        response.close()
        assert response.status_code == status, user.username
    # the sub-table entity's own rows: its permissions, and only under reachable parents
    assert client.get(url("deal_line"), headers=auth_headers(org.boss)).status_code == 403
    client.post(url(), headers=auth_headers(org.rep),
                json={"data": {"name": "r", "lines": [{"product": "mine"}]}})
    lines = client.get(url("deal_line"), headers=auth_headers(org.rep))
    assert [row["product"] for row in lines.get_json()["items"]] == ["mine"]
    assert all("unit_cost" not in row for row in lines.get_json()["items"])
    line_id = created.get_json()["lines"][0]["id"]
    assert client.get(url("deal_line", line_id), headers=auth_headers(org.rep)).status_code \
        == 404
    assert client.get(url("deal_line", line_id),
                      headers=auth_headers(org.auditor)).status_code == 200
