"""A tenant with something of every kind, built over HTTP as its people would: users,
roles and a team; the CRM app published; records with sub-rows and an uploaded image;
an edit (audit), a stage move (stage history) and an approval half-way (trail, tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.definitions import full_app, title
from tests.runtime.records.helpers import PNG, create, publish, records_url, upload

PASSWORD = "secret-pass"


@dataclass
class TenantData:
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _me(client: Any, headers: dict[str, str]) -> int:
    return int(_ok(client.get("/api/auth/me", headers=headers))["id"])


def build_tenant_data(client: Any, admin_headers: dict[str, str]) -> TenantData:
    data = TenantData()
    data.headers["admin"] = admin_headers
    for key in ("finance", "general_manager", "supervisor"):
        _ok(client.post("/api/admin/roles", json={"key": key}, headers=admin_headers), 201)
    for name, roles in {"mgr": ["supervisor"], "rep": [], "fin": ["finance"],
                        "gm": ["general_manager"]}.items():
        user = _ok(client.post("/api/admin/users", json={
            "username": name, "password": PASSWORD, "display_name": f"{name} 用户",
            "roles": roles}, headers=admin_headers), 201)
        data.ids[name] = user["id"]
        login = _ok(client.post("/api/auth/login", json={
            "tenant": "acme", "username": name, "password": PASSWORD}))
        data.headers[name] = {"Authorization": f"Bearer {login['token']}"}
    _ok(client.post("/api/admin/teams", json={
        "key": "sales", "name": "销售部", "manager_id": data.ids["mgr"],
        "members": [data.ids["rep"], _me(client, admin_headers)]}, headers=admin_headers),
        201)
    publish(client, admin_headers, _approving_app())

    rep = admin_headers  # the app grants no role to reps: the admin enters the records
    logo = _ok(upload(client, rep, PNG, "标志.png", "image/png"), 201)
    customer = create(client, rep, "customer", {
        "name": "华东阀门", "industry": "manufacturing", "logo": [logo["id"]],
        "founded_on": "2001-05-04"})
    data.ids["customer"] = customer["id"]
    _ok(client.patch(f"{records_url('customer')}/{customer['id']}", json={
        "version": customer["version"], "data": {"notes": "重点跟进"}}, headers=rep))
    opportunity = create(client, rep, "opportunity", {
        "name": "阀门改造", "customer": customer["id"], "amount": "120000.50"})
    data.ids["opportunity"] = opportunity["id"]
    _ok(client.post(f"{records_url('opportunity')}/{opportunity['id']}/transition", json={
        "to": "tech_exchange", "version": opportunity["version"]}, headers=rep))
    quote = create(client, rep, "quote", {
        "opportunity": opportunity["id"], "list_price": 100000, "price": 70000,
        "lines": [{"product": "DN100 闸阀", "quantity": 4, "unit_price": 12000},
                  {"product": "DN50 球阀", "quantity": 10, "unit_price": 2200}]})
    data.ids["quote"] = quote["id"]
    _ok(client.post(f"{records_url('quote')}/{quote['id']}/approvals",
                    json={"chain": "low_price", "comment": "请审批"}, headers=rep), 201)
    task = _ok(client.get("/api/approvals/inbox", headers=data.headers["mgr"]))["items"][0]
    _ok(client.post(f"/api/approvals/tasks/{task['task_id']}",
                    json={"action": "approve", "comment": "同意"}, headers=data.headers["mgr"]))
    return data


def _approving_app() -> dict[str, Any]:
    """The CRM app whose approvers hold the approve right on quotes: the manager (as
    supervisor), finance and the general manager."""
    definition = full_app()
    for role in definition["roles"]:
        for permission in role["permissions"]:
            if permission["entity"] == "quote":
                permission["actions"].append("approve")
    definition["roles"].append({
        "key": "supervisor", "title": title("主管", "Supervisor"), "permissions": [
            {"entity": "quote", "actions": ["read", "approve"]}]})
    return definition
