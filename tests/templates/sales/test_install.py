"""The sales package installs from the market into a fresh tenant, without demo data."""

from __future__ import annotations

from typing import Any

from tests.templates.sales.helpers import APP, ok


def test_the_package_installs_its_app_roles_and_seed(client: Any,
                                                    admin_headers: dict[str, str]) -> None:
    market = ok(client.get("/api/market", headers=admin_headers))
    listed = {p["key"]: p for p in market}
    assert listed["sales"]["title"]["zh-CN"] == "销售管理系统"
    report = ok(client.post(f"/api/market/{APP}/install", json={}, headers=admin_headers))
    assert report["action"] == "install" and [a["app"] for a in report["apps"]] == [APP]
    assert report["records"] == {"sales.clause": 11, "sales.knowledge": 3}
    assert set(report["roles"]["created"]) >= {"rep", "supervisor", "finance",
                                               "general_manager", "sales_admin"}
    assert report["unmapped_users"] == [] and report["notes"] == []
    assert ok(client.get("/api/admin/users", headers=admin_headers))[0]["username"] == "admin"
    live = ok(client.get(f"/api/apps/{APP}/export", headers=admin_headers))
    definition = live.get("definition", live)
    assert "<h1>" in definition["print_templates"][0]["template"]
    forbidden = ok(client.get(f"/api/apps/{APP}/clause/records", headers=admin_headers,
                              query_string={"filter": '{"==": [{"var": "kind"}, "forbidden"]}'}))
    assert {c["title"] for c in forbidden["items"]} == {
        "无限期免费升级", "免费实施（超出授权范围）", "无条件退货"}
