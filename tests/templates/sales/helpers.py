"""The sales package's organisation and the steps its users take over the HTTP API.

The organisation is the one the seed documents describe: reps in an East and a South team,
a supervisor (regional manager) over each, a general manager over both, finance, the
product team and a quality reviewer. Everyone works through the API with their own token.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[3] / "templates_market" / "sales"
APP = "sales"
PASSWORD = "sales-pass-2026"

ROLES = {
    "rep": ("销售", "Sales rep"), "supervisor": ("销售主管", "Sales supervisor"),
    "finance": ("财务", "Finance"), "general_manager": ("总经理", "General manager"),
    "product": ("产品团队", "Product team"), "reviewer": ("质量官", "Quality reviewer"),
    "hrbp": ("人力资源BP", "HR business partner"),
}
#: username → (display name, roles, team)
PEOPLE = {
    "zhang.wei": ("张伟", ["rep"], "east"),
    "li.na": ("李娜", ["rep"], "east"),
    "wang.fang": ("王芳", ["rep"], "south"),
    "zhao.lei": ("赵磊", ["rep"], "south"),
    "chen.jing": ("陈静", ["supervisor"], "east"),
    "liu.yang": ("刘洋", ["supervisor"], "south"),
    "sun.li": ("孙丽", ["general_manager"], "sales"),
    "zhou.min": ("周敏", ["finance"], None),
    "wu.hao": ("吴昊", ["product"], None),
    "he.qing": ("何清", ["reviewer"], None),
    "ma.li": ("马丽", ["hrbp"], None),
}
TEAMS = [("sales", "销售中心", None, "sun.li"), ("east", "华东大区", "sales", "chen.jing"),
         ("south", "华南大区", "sales", "liu.yang")]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_json()
    return response.get_json()


@dataclass
class Sales:
    """The installed app and its people: ``headers[name]``, ``ids[name]``."""

    client: Any
    admin: dict[str, str]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    # -- records --------------------------------------------------------------------------

    def url(self, entity: str, record_id: int | None = None, *rest: str) -> str:
        url = f"/api/apps/{APP}/{entity}/records"
        if record_id is not None:
            url += f"/{record_id}"
        return "/".join([url, *rest])

    def create(self, who: str, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        return ok(self.post(who, entity, data), 201)  # type: ignore[no-any-return]

    def post(self, who: str, entity: str, data: dict[str, Any]) -> Any:
        return self.client.post(self.url(entity), json={"data": data}, headers=self.as_(who))

    def get(self, who: str, entity: str, record_id: int) -> dict[str, Any]:
        return ok(self.client.get(self.url(entity, record_id), headers=self.as_(who)))

    def patch(self, who: str, entity: str, record: dict[str, Any], data: dict[str, Any]) -> Any:
        current = self.get(who, entity, record["id"])
        return self.client.patch(self.url(entity, record["id"]), headers=self.as_(who),
                                 json={"version": current["version"], "data": data})

    def update(self, who: str, entity: str, record: dict[str, Any], data: dict[str, Any]
               ) -> dict[str, Any]:
        return ok(self.patch(who, entity, record, data))  # type: ignore[no-any-return]

    def list(self, who: str, entity: str, **query: Any) -> list[dict[str, Any]]:
        if "filter" in query and not isinstance(query["filter"], str):
            query["filter"] = json.dumps(query["filter"])
        query.setdefault("limit", 200)
        return ok(self.client.get(self.url(entity), query_string=query,  # type: ignore[no-any-return]
                                  headers=self.as_(who)))["items"]

    def move(self, who: str, record: dict[str, Any], to: str, data: dict[str, Any] | None = None,
             reason: str | None = None) -> Any:
        current = self.get(who, "opportunity", record["id"])
        body: dict[str, Any] = {"to": to, "version": current["version"]}
        if data:
            body["data"] = data
        if reason:
            body["reason"] = reason
        return self.client.post(self.url("opportunity", record["id"], "transition"), json=body,
                                headers=self.as_(who))

    def upload(self, who: str, content: bytes, name: str, content_type: str) -> str:
        response = self.client.post("/api/files", headers=self.as_(who),
                                    data={"file": (io.BytesIO(content), name, content_type)},
                                    content_type="multipart/form-data")
        return str(ok(response, 201)["id"])

    def customer(self, who: str, name: str, industry: str = "manufacturing", **extra: Any
                 ) -> dict[str, Any]:
        """A customer of the East region (hospitals get the two people they need)."""
        data: dict[str, Any] = {"name": name, "industry": industry, "region": "east", **extra}
        if industry == "hospital" and "decision_chain" not in data:
            data["decision_chain"] = [{"role": "procurement", "name": "王主任"},
                                      {"role": "clinical", "name": "刘主任"}]
        return self.create(who, "customer", data)

    def clause(self, title: str) -> int:
        found = self.list("admin", "clause", filter={"==": [{"var": "title"}, title]})
        assert len(found) == 1, title
        return int(found[0]["id"])

    def mandatory_clauses(self) -> list[dict[str, int]]:
        found = self.list("admin", "clause", filter={"==": [{"var": "kind"}, "mandatory"]})
        return [{"clause": c["id"]} for c in found]

    def signed_contract(self, who: str, customer: dict[str, Any], amount: float,
                        signed_date: str, **extra: Any) -> dict[str, Any]:
        """A contract with every mandatory clause, signed on ``signed_date``."""
        return self.create(who, "contract", {
            "name": f"{customer['name']} 采购合同", "customer": customer["id"], "amount": amount,
            "clauses": self.mandatory_clauses(), "status": "signed", "signed_date": signed_date,
            **extra})

    def photo(self, who: str, place: str, latitude: float = 31.2990, longitude: float = 120.5853
              ) -> str:
        """A photo taken on site: stamped with the time and place on upload."""
        from PIL import Image

        picture = io.BytesIO()
        Image.new("RGB", (160, 120), (90, 140, 90)).save(picture, "JPEG")
        response = self.client.post(
            "/api/files", headers=self.as_(who), content_type="multipart/form-data",
            query_string={"stamp": "true", "place": place, "latitude": latitude,
                          "longitude": longitude},
            data={"file": (io.BytesIO(picture.getvalue()), "现场.jpg", "image/jpeg")})
        return str(ok(response, 201)["id"])

    def notifications(self, who: str) -> list[str]:
        """The bodies of ``who``'s notifications, newest first."""
        page = ok(self.client.get("/api/notifications", query_string={"limit": 100},
                                  headers=self.as_(who)))
        return [item["body"] for item in page["items"]]

    def as_(self, who: str) -> dict[str, str]:
        return self.admin if who == "admin" else self.headers[who]

    # -- approvals ------------------------------------------------------------------------

    def inbox(self, who: str) -> list[dict[str, Any]]:
        return ok(self.client.get("/api/approvals/inbox", headers=self.as_(who)))[  # type: ignore[no-any-return]
            "items"]

    def decide(self, who: str, action: str = "approve", comment: str = "",
               record: dict[str, Any] | None = None) -> dict[str, Any]:
        """``who`` decides their one pending task (the one about ``record`` if given)."""
        tasks = [t for t in self.inbox(who)
                 if record is None or t["record"]["id"] == record["id"]]
        assert len(tasks) == 1, tasks
        return ok(self.client.post(f"/api/approvals/tasks/{tasks[0]['task_id']}",  # type: ignore[no-any-return]
                                   json={"action": action, "comment": comment},
                                   headers=self.as_(who)))


def build_org(client: Any, admin_headers: dict[str, str]) -> Sales:
    """Roles, people and teams of the seed documents, created by the tenant admin."""
    sales = Sales(client, admin_headers)
    for key, (zh, en) in ROLES.items():
        ok(client.post("/api/admin/roles", headers=admin_headers,
                       json={"key": key, "title": {"zh-CN": zh, "en": en}}), 201)
    for username, (name, roles, _team) in PEOPLE.items():
        user = ok(client.post("/api/admin/users", headers=admin_headers, json={
            "username": username, "password": PASSWORD, "display_name": name, "roles": roles,
            "is_available": True}), 201)
        sales.ids[username] = user["id"]
    team_ids: dict[str, int] = {}
    for key, name, parent, manager in TEAMS:
        members = [sales.ids[u] for u, (_n, _r, team) in PEOPLE.items() if team == key]
        team = ok(client.post("/api/admin/teams", headers=admin_headers, json={
            "key": key, "name": name, "parent_id": team_ids.get(parent) if parent else None,
            "manager_id": sales.ids[manager], "members": members}), 201)
        team_ids[key] = team["id"]
    for username in PEOPLE:
        login = ok(client.post("/api/auth/login", json={
            "tenant": "acme", "username": username, "password": PASSWORD}))
        sales.headers[username] = {"Authorization": f"Bearer {login['token']}"}
    return sales


def install(client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    """Install the package from the market (its seed: the clause library, talk tracks)."""
    return ok(client.post(f"/api/market/{APP}/install", json={},  # type: ignore[no-any-return]
                          headers=admin_headers))


def problems(response: Any) -> dict[str, str]:
    """path → code of every problem of a refused request."""
    assert response.status_code == 422, response.get_json()
    return {d["path"]: d["code"] for d in response.get_json()["error"]["details"]}


def messages(response: Any) -> dict[str, str]:
    return {d["path"]: d["message"] for d in response.get_json()["error"]["details"]}
