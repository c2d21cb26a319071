"""Time spent per stage, the funnel and the weighted forecast, over a known timeline.

Moves are made through the stage engine with a controlled ``now`` (hours after a base time
in the future, so every move comes after the records were created)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from builder.runtime.records import RecordService
from builder.runtime.storage.tables import entity_store
from builder.runtime.workflow import stage_engine, stage_stats
from tests.runtime.records.helpers import publish
from tests.runtime.workflow.funnel import funnel_app, url

BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
HOUR = 3600.0


def _at(hours: float) -> datetime:
    return BASE + timedelta(hours=hours)


@pytest.fixture
def timeline(client: Any, admin: Any, admin_headers: Any) -> dict[str, int]:
    """Four opportunities moved through the funnel (criteria removed: only time matters).

    A: needs@1 tech@3 quote@7          east 100000
    B: needs@2 tech@6 lost@8           east 200000
    C: needs@4                          east 300000
    D: needs@1 tech@10 back to needs@11 west 400000
    """
    definition = funnel_app("stats", auto_advance=False)
    for stage in definition["stage_flows"][0]["stages"]:
        stage.pop("entry", None)
        stage.pop("deliverables", None)
    publish(client, admin_headers, definition)
    service = RecordService(entity_store(admin.tenant_id, "stats", "opportunity"), admin)
    plan = {"A": ("east", 100000, [("needs", 1), ("tech", 3), ("quote", 7)]),
            "B": ("east", 200000, [("needs", 2), ("tech", 6), ("lost", 8)]),
            "C": ("east", 300000, [("needs", 4)]),
            "D": ("west", 400000, [("needs", 1), ("tech", 10), ("needs", 11)])}
    ids = {name: service.create({"name": name, "region": region, "amount": amount})["id"]
           for name, (region, amount, _) in plan.items()}
    moves = sorted((hours, name, to) for name, (_, _, steps) in plan.items()
                   for to, hours in steps)
    for hours, name, to in moves:
        record = service.get(ids[name])
        data = {"lost_reason": "预算取消"} if to == "lost" else None
        stage_engine.transition(service.store, admin, ids[name], to, record["version"], data,
                                now=_at(hours))
    return ids


def _by_stage(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["stage"]: item for item in items}


def test_a_records_visits_with_their_dwell(client: Any, admin: Any, admin_headers: Any,
                                           timeline: dict[str, int]) -> None:
    response = client.get(f"{url('stats')}/{timeline['D']}/stages", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    visits = response.get_json()["items"]
    assert [(v["from"], v["to"]) for v in visits] == [
        (None, "initial"), ("initial", "needs"), ("needs", "tech"), ("tech", "needs")]
    assert [v["dwell_seconds"] for v in visits[1:3]] == [9 * HOUR, 1 * HOUR]
    assert visits[1]["to_title"] == "需求确认" and visits[1]["by"] == admin.id
    assert visits[3]["current"] and visits[3]["left_at"] is None
    assert visits[2]["entered_at"] == _at(10).isoformat().replace("+00:00", "Z")
    store = entity_store(admin.tenant_id, "stats", "opportunity")
    now = stage_stats.record_stages(store, timeline["D"], now=_at(12.5))
    assert now[-1]["dwell_seconds"] == 1.5 * HOUR


def test_dwell_by_stage_average_and_median(client: Any, admin: Any, admin_headers: Any,
                                           timeline: dict[str, int]) -> None:
    response = client.get("/api/apps/stats/stage_flows/funnel/dwell", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    stages = _by_stage(response.get_json()["stages"])
    assert list(stages) == ["initial", "needs", "tech", "quote", "negotiation", "won", "lost"]
    assert stages["needs"] == {"stage": "needs", "title": "需求确认", "visits": 3,
                               "average_seconds": 5 * HOUR, "median_seconds": 4 * HOUR}
    assert stages["tech"]["visits"] == 3
    assert stages["tech"]["average_seconds"] == pytest.approx(7 / 3 * HOUR, abs=0.01)
    assert stages["tech"]["median_seconds"] == 2 * HOUR
    assert stages["quote"] == {"stage": "quote", "title": "方案报价", "visits": 0,
                               "average_seconds": None, "median_seconds": None}
    assert stages["initial"]["visits"] == 4  # created now, left days later

    east = client.get("/api/apps/stats/stage_flows/funnel/dwell", headers=admin_headers,
                      query_string={"filter": json.dumps({"==": [{"var": "region"}, "east"]})})
    needs = _by_stage(east.get_json()["stages"])["needs"]
    assert (needs["visits"], needs["average_seconds"], needs["median_seconds"]) == (
        2, 3 * HOUR, 3 * HOUR)

    # the service function dashboards call; open visits count up to ``now``
    with_open = _by_stage(stage_stats.dwell_by_stage(
        admin.tenant_id, "stats", "funnel", include_open=True, now=_at(12)))
    assert with_open["needs"]["visits"] == 5
    assert with_open["needs"]["average_seconds"] == 4.8 * HOUR  # 2, 4, 9, 8, 1 hours
    assert with_open["needs"]["median_seconds"] == 4 * HOUR
    assert with_open["quote"]["average_seconds"] == 5 * HOUR

    bad = client.get("/api/apps/stats/stage_flows/funnel/dwell", headers=admin_headers,
                     query_string={"filter": json.dumps({"==": [{"var": "nope"}, 1]})})
    assert bad.status_code == 422
    missing = client.get("/api/apps/stats/stage_flows/other/dwell", headers=admin_headers)
    assert missing.status_code == 404


def test_funnel_counts_conversion_and_weighted_forecast(
        client: Any, admin: Any, admin_headers: Any, timeline: dict[str, int]) -> None:
    response = client.get("/api/apps/stats/stage_flows/funnel/funnel", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    stages = _by_stage(body["stages"])
    assert {k: v["current"] for k, v in stages.items()} == {
        "initial": 0, "needs": 2, "tech": 0, "quote": 1, "negotiation": 0, "won": 0, "lost": 1}
    assert {k: v["reached"] for k, v in stages.items()} == {
        "initial": 4, "needs": 4, "tech": 3, "quote": 1, "negotiation": 0, "won": 0, "lost": 1}
    assert {k: v["conversion"] for k, v in stages.items()} == {
        "initial": 1.0, "needs": 0.75, "tech": 0.3333, "quote": 0.0, "negotiation": None,
        "won": None, "lost": None}
    assert stages["needs"]["amount"] == 700000 and stages["needs"]["weighted"] == 140000
    assert stages["quote"]["weighted"] == 60000 and stages["lost"]["weighted"] == 0
    assert body["forecast"] == 200000
    assert stages["needs"]["average_seconds"] == 5 * HOUR

    east = stage_stats.weighted_forecast(admin.tenant_id, "stats", "funnel",
                                         {"==": [{"var": "region"}, "east"]})
    assert east["amount_field"] == "amount" and east["total"] == 120000
    assert _by_stage(east["stages"])["needs"] == {
        "stage": "needs", "title": "需求确认", "count": 1, "probability": 20.0,
        "amount": 300000, "weighted": 60000}

    # deleted records leave every figure
    client.delete(f"{url('stats')}/{timeline['C']}", headers=admin_headers)
    after = _by_stage(stage_stats.funnel(admin.tenant_id, "stats", "funnel")["stages"])
    assert after["needs"]["current"] == 1 and after["needs"]["reached"] == 3
    wrong = client.get("/api/apps/stats/stage_flows/funnel/funnel", headers=admin_headers,
                       query_string={"amount_field": "name"})
    assert wrong.status_code == 422
