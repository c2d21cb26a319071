"""Publishing keeps the cron timers of reports and alerts in step with the definition:
a timer per enabled item, left alone when its schedule did not change, replaced when it
did, cancelled when the item is disabled or removed."""

from __future__ import annotations

from typing import Any

from builder import clock
from builder.runtime.jobs import timers
from builder.runtime.reports.schedules import timer_key
from tests.runtime.records.helpers import publish
from tests.runtime.reports.report_apps import alert_app, at, report_app

REPORT = timer_key("reports", "sales", "daily_brief")


def republish(client: Any, headers: dict[str, str], definition: dict[str, Any]) -> None:
    response = client.put("/api/apps/sales/draft", json={"definition": definition},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    response = client.post("/api/apps/sales/publish", headers=headers)
    assert response.status_code == 200, response.get_json()


def pending(tenant_id: int, key: str) -> list[Any]:
    return [(t.id, t.due_at, t.cron) for t in timers.pending(tenant_id, key)]


def test_timers_follow_the_published_reports(client, tenant, admin_headers):
    definition = report_app("https://oapi.dingtalk.com/robot/send")
    clock.travel_to(at("2026-06-15", 9, 30), frozen=True)
    publish(client, admin_headers, definition)
    [(first, due, cron)] = pending(tenant.id, REPORT)
    assert (due, cron) == (at("2026-06-16", 9), "0 9 * * *")

    clock.travel_to(at("2026-06-16", 8, 59), frozen=True)
    definition["reports"][0]["title"] = {"zh-CN": "每日简报"}
    republish(client, admin_headers, definition)
    assert pending(tenant.id, REPORT) == [(first, at("2026-06-16", 9), "0 9 * * *")]

    definition["reports"][0]["schedule"] = {"cron": "30 9 * * 1-5"}
    republish(client, admin_headers, definition)
    [(second, due, cron)] = pending(tenant.id, REPORT)
    assert second != first and (due, cron) == (at("2026-06-16", 9, 30), "30 9 * * 1-5")

    definition["reports"][0]["enabled"] = False
    republish(client, admin_headers, definition)
    assert pending(tenant.id, REPORT) == []
    definition["reports"][0]["enabled"] = True
    republish(client, admin_headers, definition)
    assert len(pending(tenant.id, REPORT)) == 1
    definition["reports"] = []
    republish(client, admin_headers, definition)
    assert pending(tenant.id, REPORT) == []
    assert timers.run_due(at("2026-06-20", 12)) == 0


def test_alert_timers_are_per_alert(client, tenant, admin_headers):
    definition = alert_app()
    clock.travel_to(at("2026-06-10", 12), frozen=True)  # a Wednesday
    publish(client, admin_headers, definition)
    for key in ("coaching", "below_average"):
        [(_id, due, cron)] = pending(tenant.id, timer_key("alerts", "sales", key))
        assert (due, cron) == (at("2026-06-15", 9), "0 9 * * 1")
    definition["alerts"] = definition["alerts"][:1]
    republish(client, admin_headers, definition)
    assert pending(tenant.id, timer_key("alerts", "sales", "below_average")) == []
    assert len(pending(tenant.id, timer_key("alerts", "sales", "coaching"))) == 1
