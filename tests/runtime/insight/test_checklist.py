"""The checklist widget (a self-check scored against bars) and metrics of ages (how many
hours since a date), over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from builder import clock
from tests.definitions import entity, field, minimal_app, title
from tests.runtime.records.helpers import create, patch, publish

APP = "health"
NOW = datetime(2026, 6, 17, 2, 0, tzinfo=UTC)


def definition() -> dict[str, Any]:
    lead = entity("lead", "线索", "Lead", [
        field("name", "text", "名称", "Name"),
        field("touched", "boolean", "2小时内触达", "Touched in time"),
        field("days", "number", "首单天数", "Days to first deal")])
    app = minimal_app(lead, key=APP)
    app["metrics"] = [
        {"key": "leads", "title": title("线索"), "entity": "lead", "aggregate": "count"},
        {"key": "touched", "title": title("及时"), "entity": "lead", "aggregate": "count",
         "filter": {"==": [{"var": "touched"}, True]}},
        {"key": "rate", "title": title("2小时响应率"), "aggregate": "ratio",
         "numerator": "touched", "denominator": "leads"},
        {"key": "cycle", "title": title("首单周期"), "entity": "lead", "aggregate": "avg",
         "field": "days"},
        {"key": "freshness", "title": title("数据新鲜度"), "entity": "lead",
         "aggregate": "median", "field": "updated_at", "age": "hour"},
        {"key": "oldest", "title": title("最久"), "entity": "lead", "aggregate": "max",
         "field": "created_at", "age": "day"}]
    app["dashboards"] = [{"key": "check", "title": title("自测"), "widgets": [
        {"key": "self", "type": "checklist", "metrics": ["rate", "cycle", "freshness"],
         "options": {"items": [
             {"op": ">=", "target": 0.9, "title": {"zh-CN": "线索响应时效", "en": "Response"},
              "expect": {"zh-CN": "90%以上线索在2小时内完成首次触达"}},
             {"op": "<=", "target": 45, "title": {"zh-CN": "新人首单周期"}},
             {"op": "<", "target": 24}],
             "bands": [{"min": 0, "title": {"zh-CN": "急需加固"}},
                       {"min": 2, "title": {"zh-CN": "重点优化"}},
                       {"min": 3, "title": {"zh-CN": "可以进阶"}}]}},
        {"key": "fresh", "type": "number", "metrics": ["freshness"],
         "options": {"window": "all"}},
        {"key": "oldest", "type": "number", "metrics": ["oldest"], "options": {"window": "all"}},
        {"key": "broken", "type": "checklist", "metrics": ["rate"], "options": {"items": []}}]}]
    return app


def widget(client: Any, headers: dict[str, str], key: str) -> Any:
    return client.get(f"/api/apps/{APP}/dashboards/check/widgets/{key}", headers=headers)


def test_a_self_check_scores_each_metric_against_its_bar(client: Any,
                                                        admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition())
    clock.travel_to(NOW - timedelta(hours=30), frozen=True)
    old = create(client, admin_headers, "lead", {"name": "旧", "touched": True, "days": 30}, APP)
    clock.travel_to(NOW - timedelta(hours=10), frozen=True)
    for index in range(8):
        create(client, admin_headers, "lead", {"name": f"新{index}", "touched": index > 0,
                                               "days": 60}, APP)
    clock.travel_to(NOW - timedelta(hours=2), frozen=True)
    patch(client, admin_headers, "lead", old, {"name": "旧（已更新）"}, APP)
    clock.travel_to(NOW, frozen=True)

    data = widget(client, admin_headers, "self").get_json()["data"]
    rate, cycle, fresh = data["items"]
    assert (rate["value"], rate["passed"]) == (8 / 9, False)
    assert rate["title"] == "线索响应时效" and rate["expect"].startswith("90%以上")
    assert round(cycle["value"], 4) == 56.6667 and cycle["passed"] is False
    assert fresh["value"] == 10 and fresh["passed"] is True and fresh["expect"] == "< 24"
    assert (data["score"], data["max"], data["verdict"]) == (1, 3, "急需加固")
    assert data["table"]["rows"][0][0] == "线索响应时效"

    drill = client.get(f"/api/apps/{APP}/dashboards/check/widgets/self/records",
                       query_string={"point": json.dumps(rate["point"])},
                       headers=admin_headers).get_json()
    assert drill["total"] == 8  # the leads touched in time: the ratio's numerator
    assert widget(client, admin_headers, "fresh").get_json()["data"]["value"] == 10
    oldest = widget(client, admin_headers, "oldest").get_json()["data"]["value"]
    assert round(oldest, 4) == 1.25  # thirty hours

    refused = widget(client, admin_headers, "broken")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"][0]["path"] == "options.items"


def test_an_age_needs_a_date_field(client: Any, admin_headers: dict[str, str]) -> None:
    app = definition()
    app["metrics"].append({"key": "bad", "title": title("坏"), "entity": "lead",
                           "aggregate": "median", "field": "days", "age": "hour"})
    response = client.post("/api/apps", json={"definition": app}, headers=admin_headers)
    assert response.status_code == 422
    details = {d["path"]: d["code"] for d in response.get_json()["error"]["details"]}
    assert details == {"metrics[6].field": "field_kind"}
