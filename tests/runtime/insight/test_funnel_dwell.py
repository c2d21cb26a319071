"""The funnel widget's dwell times come from the stage history of the records it counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from builder import clock
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import create, publish, records_url


def _definition() -> dict[str, Any]:
    deal = entity("deal", "商机", "Deal", [
        field("name", "text", "名称", "Name"),
        field("stage", "select", "阶段", "Stage", options=[
            option("first", "初步接洽"), option("second", "需求确认"), option("won", "赢单")])])
    definition = minimal_app(deal)
    definition["key"] = "pipe"
    definition["stage_flows"] = [{"key": "flow", "entity": "deal", "field": "stage",
                                  "stages": [{"key": "first"}, {"key": "second"},
                                             {"key": "won", "terminal": "won"}]}]
    definition["metrics"] = [{"key": "deals", "title": title("商机数"), "entity": "deal",
                              "aggregate": "count"}]
    definition["dashboards"] = [{"key": "main", "title": title("看板"), "widgets": [
        {"key": "funnel", "type": "funnel", "metrics": ["deals"],
         "options": {"flow": "flow", "window": "all"}}]}]
    return definition


def test_funnel_shows_average_time_in_each_stage(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers, _definition())
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    clock.travel_to(start, frozen=True)
    deals = [create(client, admin_headers, "deal", {"name": f"D{i}"}, app="pipe")
             for i in range(2)]
    for hours, deal in zip((2, 6), deals, strict=True):
        clock.travel_to(start + timedelta(hours=hours), frozen=True)
        response = client.post(f"{records_url('deal', 'pipe')}/{deal['id']}/transition",
                               json={"to": "second", "version": deal["version"]},
                               headers=admin_headers)
        assert response.status_code == 200, response.get_json()
    response = client.get("/api/apps/pipe/dashboards/main/widgets/funnel",
                          headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    stages = {s["stage"]: s for s in response.get_json()["data"]["stages"]}
    assert stages["first"]["dwell_seconds"] == 4 * 3600  # (2 h + 6 h) / 2
    assert stages["second"]["count"] == 2 and stages["second"]["dwell_seconds"] is None
