"""What a role hides stays hidden on the side roads: notifications, search and unique
checks; configuration and administration are separate rights."""

from __future__ import annotations

from typing import Any

import pytest

from builder.i18n import gettext
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.definitions import field
from tests.runtime.access.helpers import APP, Org, make_org, sales_app, url
from tests.runtime.records.helpers import publish

NOTE = "zebra-note-42"


@pytest.fixture
def org(client: Any, tenant: Any, admin_headers: Any, make_user: Any, run_jobs: Any) -> Org:
    definition = sales_app()
    deal = definition["entities"][0]
    deal["fields"] += [field("note", "text", "内部备注", "Internal note"),
                       field("code", "text", "编号", "Code", unique=True)]
    definition["roles"][0]["permissions"][0]["fields"]["hidden"].append("note")
    definition["automations"] = [{
        "key": "new_deal", "entity": "deal", "trigger": {"type": "created"},
        "actions": [{"type": "notify", "to": ["owner", {"role": "finance"}],
                     "subject": "新交易 {name}", "message": "成本 {cost} 毛利 {margin} 备注 {note}",
                     "channels": ["inbox", "json"],
                     "webhook": {"url": "http://127.0.0.1:9/robot"}}]}]
    publish(client, admin_headers, definition)
    users = make_org(tenant, make_user)
    for user, code in ((users.rep, "R-1"), (users.outsider, "X-1")):
        with events.acting("test"):
            RecordService(entity_store(tenant.id, APP, "deal"), user).create(
                {"name": f"{user.username} deal", "amount": 100, "cost": 61, "note": NOTE,
                 "code": code})
    run_jobs()
    return users


def _notices(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/notifications", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


def test_a_notice_carries_only_what_its_reader_may_read(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    [mine] = _notices(client, auth_headers(org.rep))
    assert mine["subject"] == "新交易 rep deal"
    assert "成本  毛利  备注 " in mine["body"], mine
    assert "61" not in str(mine) and "39" not in str(mine) and NOTE not in str(mine)
    finance = _notices(client, auth_headers(org.auditor))
    assert len(finance) == 2 and all("成本 61 毛利 39 备注 " + NOTE in n["body"]
                                     for n in finance), finance
    deliveries = client.get("/api/admin/deliveries", headers=admin_headers,
                            query_string={"channel": "json"}).get_json()["items"]
    assert len(deliveries) == 2
    for robot in deliveries:  # a chat robot is read by anyone: no field a role hides
        sent = str({k: v for k, v in robot.items() if not k.endswith("_at")})  # not times
        assert "61" not in sent and NOTE not in sent, robot


def test_search_honours_scopes_and_hidden_fields(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)

    def found(headers: dict[str, str], term: str) -> list[str]:
        response = client.get(url(), headers=headers, query_string={"q": term, "count": 1})
        assert response.status_code == 200, response.get_json()
        return sorted(item["name"] for item in response.get_json()["items"])

    assert found(admin_headers, NOTE) == ["outsider deal", "rep deal"]
    assert found(rep, NOTE) == []  # the note is hidden from reps
    assert found(rep, "deal") == ["rep deal"]
    assert found(rep, "outsider") == []  # outside the rep's scope
    export = client.get(f"/api/apps/{APP}/deal/export", headers=auth_headers(org.auditor),
                        query_string={"q": "outsider"})
    assert export.status_code == 200


def test_a_unique_clash_names_the_holder_only_to_who_may_read_it(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    refused = client.post(url(), headers=auth_headers(org.rep),
                          json={"data": {"name": "again", "code": "X-1"}})
    assert refused.status_code == 422
    [problem] = refused.get_json()["error"]["details"]
    assert problem["path"] == "code" and problem["code"] == "unique"
    assert problem["message"] == gettext("records.error.not_unique", "zh-CN"), problem
    assert "outsider" not in refused.get_data(as_text=True)
    own = client.post(url(), headers=auth_headers(org.rep),
                      json={"data": {"name": "again", "code": "R-1"}})
    assert own.status_code == 422 and "rep deal" in own.get_data(as_text=True)
    admin = client.post(url(), headers=admin_headers,
                        json={"data": {"name": "again", "code": "X-1"}})
    assert admin.status_code == 422 and "outsider deal" in admin.get_data(as_text=True)


def test_only_app_admins_configure_and_only_tenant_admins_administer(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    draft = client.get(f"/api/apps/{APP}/draft", headers=admin_headers).get_json()
    body = {"definition": draft["definition"]} if "definition" in draft else draft
    for user in (org.rep, org.boss, org.auditor, org.nobody):
        headers = auth_headers(user)
        assert client.put(f"/api/apps/{APP}/draft", headers=headers,
                          json=body).status_code == 403
        for action, data in (("plan", {}), ("publish", {}), ("rollback", {"version": 1}),
                             ("purge", {"entity": "deal"})):
            assert client.post(f"/api/apps/{APP}/{action}", headers=headers,
                               json=data).status_code == 403, (user.username, action)
    designer = auth_headers(org.designer)
    assert client.put(f"/api/apps/{APP}/draft", headers=designer,
                      json=body).status_code == 200
    administration = [("GET", "/api/admin/users", {}),
                      ("POST", "/api/admin/users", {"username": "x", "password": "secret-x1"}),
                      ("POST", "/api/admin/roles", {"key": "x"}),
                      ("POST", "/api/admin/teams", {"key": "x"}),
                      ("GET", "/api/admin/export", None),
                      ("POST", "/api/admin/clone", {"target": "twin"}),
                      ("POST", "/api/market/crm_starter/install", {}),
                      ("PATCH", f"/api/admin/users/{org.rep.id}", {"is_tenant_admin": True})]
    for user in (org.designer, org.rep, org.auditor):
        headers = auth_headers(user)
        for method, path, data in administration:
            answer = client.open(path, method=method, headers=headers, json=data)
            assert answer.status_code == 403, (user.username, method, path, answer.get_json())
    assert client.get("/api/admin/users", headers=admin_headers).status_code == 200
