"""Shared steps of the approval tests: an organisation built over the admin API, a quote
app with a low-price chain, and small HTTP helpers for users acting on their inbox."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.definitions import entity, option, title
from tests.definitions import field as field_def
from tests.runtime.records.helpers import publish

APP = "sales"
QUOTES = f"/api/apps/{APP}/quote/records"


def quote_entities() -> list[dict[str, Any]]:
    quote = entity("quote", "报价单", "Quote", [
        field_def("name", "text", "报价名称", "Name", required=True),
        field_def("list_price", "money", "目录价", "List price", min=0),
        field_def("price", "money", "报价", "Price", required=True, min=0),
        field_def("price_ratio", "formula", "价格比例", "Price ratio", result_type="number",
                  precision=4, expression={"if": [
                      {">": [{"var": "list_price"}, 0]},
                      {"/": [{"var": "price"}, {"var": "list_price"}]}, 1]}),
        field_def("sales_rep", "user", "销售代表", "Sales rep"),
        field_def("notes", "long_text", "备注", "Notes"),
        field_def("lines", "subtable", "报价明细", "Lines", entity="quote_line"),
        field_def("approval_status", "select", "审批状态", "Approval status", options=[
            option("approved", "已批准", "Approved"), option("rejected", "已驳回", "Rejected")]),
        field_def("approved_price", "money", "批准价格", "Approved price"),
    ], title_field="name")
    line = entity("quote_line", "报价明细", "Quote line", [
        field_def("product", "text", "产品", "Product", required=True),
        field_def("quantity", "number", "数量", "Quantity", precision=0, min=1)],
        title_field="product")
    return [quote, line]


def low_price_chain(**changes: Any) -> dict[str, Any]:
    """报价低于目录价 85% 时自动触发三级审批: 区域经理 → 财务 → 总经理."""
    chain: dict[str, Any] = {
        "key": "low_price", "title": title("低价审批", "Low price approval"),
        "entity": "quote", "trigger": "on_save",
        "when": {"<": [{"var": "price_ratio"}, 0.85]},
        "steps": [
            {"key": "regional", "title": title("区域经理", "Regional manager"),
             "approver": {"type": "manager_of", "of": "submitter"}, "mode": "any"},
            {"key": "finance", "title": title("财务主管", "Finance"),
             "approver": {"type": "role", "role": "finance"}, "mode": "any"},
            {"key": "gm", "title": title("总经理", "General manager"),
             "approver": {"type": "role", "role": "general_manager"}, "mode": "any"}],
        "lock_record": True,
        "on_approved": {"set": {"approval_status": "approved",
                                "approved_price": {"logic": {"var": "price"}}}},
        "on_rejected": {"set": {"approval_status": "rejected"}},
    }
    chain.update(changes)
    return chain


def sales_app(*chains: dict[str, Any]) -> dict[str, Any]:
    return {"format": 1, "key": APP, "version": "1.0.0", "title": title("销售管理", "Sales"),
            "entities": quote_entities(),
            "approval_chains": [copy.deepcopy(c) for c in chains or [low_price_chain()]],
            "roles": [{"key": "finance", "title": title("财务", "Finance")},
                      {"key": "general_manager", "title": title("总经理", "General manager")}]}


@dataclass
class Org:
    """Users of the tenant by name, with their bearer headers.

    Team tree: ``sales`` (managed by ``director``) ⊃ ``east`` (managed by ``east_mgr``,
    members ``rep`` and ``rep2``). Roles: ``finance`` (``fin1``, ``fin2``),
    ``general_manager`` (``gm``). ``clerk`` has no role and no team.
    """

    client: Any
    admin_headers: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def post(self, who: str, url: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(url, json=body if body is not None else {},
                                headers=self.headers[who], **kwargs)

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers[who], **kwargs)

    def inbox(self, who: str) -> list[dict[str, Any]]:
        response = self.get(who, "/api/approvals/inbox")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]  # type: ignore[no-any-return]

    def task(self, who: str, record_id: int | None = None) -> dict[str, Any]:
        """The one pending task of ``who`` (for ``record_id`` when given)."""
        tasks = [t for t in self.inbox(who)
                 if record_id is None or t["record"]["id"] == record_id]
        assert len(tasks) == 1, (who, tasks)
        return tasks[0]

    def act(self, who: str, action: str, comment: str | None = None,
            record_id: int | None = None, **extra: Any) -> Any:
        task = self.task(who, record_id)
        return self.post(who, f"/api/approvals/tasks/{task['task_id']}",
                         {"action": action, "comment": comment, **extra})

    def quote(self, who: str, price: float, list_price: float = 100000, **data: Any
              ) -> dict[str, Any]:
        response = self.post(who, QUOTES, {"data": {"name": data.pop("name", "阀门报价"),
                                                     "list_price": list_price,
                                                     "price": price, **data}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def record(self, record_id: int) -> dict[str, Any]:
        return self.get("admin", f"{QUOTES}/{record_id}").get_json()  # type: ignore[no-any-return]

    def trail(self, record_id: int) -> list[dict[str, Any]]:
        response = self.get("admin", f"{QUOTES}/{record_id}/approvals")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]  # type: ignore[no-any-return]


def build_org(client: Any, admin: Any, admin_headers: dict[str, str], auth_headers: Any,
              *chains: dict[str, Any]) -> Org:
    """Roles, users and teams created over the admin API; the sales app published."""
    from builder.platform.models import User

    org = Org(client, admin_headers)
    org.ids["admin"], org.headers["admin"] = admin.id, admin_headers
    for key in ("finance", "general_manager"):
        assert client.post("/api/admin/roles", json={"key": key},
                           headers=admin_headers).status_code == 201
    people = {"director": [], "east_mgr": [], "rep": [], "rep2": [], "fin1": ["finance"],
              "fin2": ["finance"], "gm": ["general_manager"], "clerk": []}
    for name, roles in people.items():
        response = client.post("/api/admin/users", json={
            "username": name, "password": "secret-pass", "display_name": name,
            "roles": roles}, headers=admin_headers)
        assert response.status_code == 201, response.get_json()
        org.ids[name] = response.get_json()["id"]
    sales = client.post("/api/admin/teams", json={
        "key": "sales", "name": "销售部", "manager_id": org.ids["director"]},
        headers=admin_headers)
    assert sales.status_code == 201, sales.get_json()
    east = client.post("/api/admin/teams", json={
        "key": "east", "name": "华东区", "parent_id": sales.get_json()["id"],
        "manager_id": org.ids["east_mgr"], "members": [org.ids["rep"], org.ids["rep2"]]},
        headers=admin_headers)
    assert east.status_code == 201, east.get_json()
    from builder.extensions import db

    for name in people:
        org.headers[name] = auth_headers(db.session.get(User, org.ids[name]))
    publish(client, admin_headers, sales_app(*chains))
    return org


def republish(org: Org, *chains: dict[str, Any]) -> None:
    """Replace the app's approval chains and publish, as a designer would."""
    client, headers = org.client, org.admin_headers
    definition = client.get(f"/api/apps/{APP}/draft", headers=headers).get_json()["definition"]
    definition["approval_chains"] = [copy.deepcopy(c) for c in chains]
    response = client.put(f"/api/apps/{APP}/draft", json={"definition": definition},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    response = client.post(f"/api/apps/{APP}/publish", headers=headers)
    assert response.status_code == 200, response.get_json()
