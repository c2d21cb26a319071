"""The package installed from the market into a fresh tenant, with its demo data: the demo
organisation is created, every dashboard shows figures, the ten items of the health
self-check are computed (each equal to the figure computed here from the tables' rows), and
a rep sees only their own figures."""

from __future__ import annotations

from typing import Any

import pytest

from builder.platform.models import Tenant
from tests.templates.sales.health import health_figures
from tests.templates.sales.helpers import APP, ok
from tests.templates.tables import Tables

DASHBOARDS = {"funnel", "leads", "leaderboard", "targets", "health"}


def numbers(value: Any) -> list[float]:
    """Every number in a widget's data, points and tables left out."""
    if isinstance(value, dict):
        return [n for k, v in value.items() if k not in ("point", "table", "layout")
                for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    return []


def test_the_package_installs_with_its_demo_and_every_dashboard_has_figures(
        client: Any, admin_headers: dict[str, str], tenant: Tenant) -> None:
    report = ok(client.post("/api/market/sales/install", json={"demo_data": True},
                            headers=admin_headers))
    assert report["action"] == "install" and report["unmapped_users"] == []
    assert report["records"]["sales.lead"] == 44 and report["records"]["sales.clause"] == 11
    assert any("zhang.wei" in note for note in report["notes"])
    teams = {t["key"]: t for t in ok(client.get("/api/admin/teams", headers=admin_headers))}
    assert {"sales", "east", "south"} <= set(teams)

    listed = ok(client.get(f"/api/apps/{APP}/dashboards", headers=admin_headers))
    boards = listed["items"] if isinstance(listed, dict) else listed
    assert {d["key"] for d in boards} == DASHBOARDS
    for board in boards:
        data = ok(client.get(f"/api/apps/{APP}/dashboards/{board['key']}", headers=admin_headers))
        for widget in data["widgets"]:
            found = [n for n in numbers(widget["data"]) if n]
            assert found, (board["key"], widget["key"], widget["data"])

    funnel = ok(client.get(f"/api/apps/{APP}/dashboards/funnel/widgets/funnel",
                           headers=admin_headers))["data"]
    assert [s["stage"] for s in funnel["stages"]] == ["lead", "needs", "tech_exchange",
                                                      "proposal", "negotiation", "contract"]
    assert funnel["stages"][0]["reached"] == 18 and funnel["lost"][0]["count"] == 1
    assert all(s["conversion"] for s in funnel["stages"][1:])

    health = ok(client.get(f"/api/apps/{APP}/dashboards/health/widgets/checklist",
                           headers=admin_headers))["data"]
    items = {item["series"]: item for item in health["items"]}
    assert len(items) == 10 and all(item["value"] is not None for item in items.values())
    assert items["first_deal_cycle"]["value"] == 31  # the two reps hired this year
    assert items["first_deal_cycle"]["passed"] is True
    assert items["daily_reports_recent"]["passed"] is True  # yesterday's report exists
    assert items["classification_error_rate"]["value"] == 1 / 12  # one of twelve audits
    assert items["first_pass_rate"]["value"] == 9 / 11
    assert 0 < items["response_2h_rate"]["value"] < 0.9
    assert health["max"] == 10 and health["score"] == sum(i["passed"] for i in items.values())
    by_hand = health_figures(Tables(tenant.id, APP))
    for key, expected in by_hand.items():
        assert expected is not None and expected != 0, key
        assert items[key]["value"] == pytest.approx(expected), key
    assert health["verdict"] in ("急需启动销售管理基础加固", "建议重点优化过程管控模块",
                                 "可向精细化运营与AI赋能进阶")


def test_a_demo_rep_sees_their_own_figures(client: Any, admin_headers: dict[str, str]) -> None:
    ok(client.post("/api/market/sales/install", json={"demo_data": True}, headers=admin_headers))
    users = {u["username"]: u for u in ok(client.get("/api/admin/users", headers=admin_headers))}
    rep = users["zhang.wei"]
    assert rep["roles"] == ["rep"] and rep["teams"] == ["east"]
    assert client.post("/api/auth/login", json={"tenant": "acme", "username": "zhang.wei",
                                                "password": ""}).status_code in (401, 422)
    ok(client.patch(f"/api/admin/users/{rep['id']}", json={"password": "zhang-wei-demo"},
                    headers=admin_headers))
    login = ok(client.post("/api/auth/login", json={
        "tenant": "acme", "username": "zhang.wei", "password": "zhang-wei-demo"}))
    headers = {"Authorization": f"Bearer {login['token']}"}
    board = ok(client.get(f"/api/apps/{APP}/dashboards/leaderboard/widgets/board",
                          headers=headers))["data"]
    assert [row["label"] for row in board["rows"]] == ["张伟"]
    leads = ok(client.get(f"/api/apps/{APP}/lead/records", query_string={"limit": 200},
                          headers=headers))["items"]
    assert leads and all(lead["owner"] in (rep["id"], None) for lead in leads)
