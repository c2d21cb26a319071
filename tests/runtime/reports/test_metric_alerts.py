"""Alerts configured in the definition: a rep under 65% of target two weeks running gets
one coaching task and their manager one notification, once per week, on the alert's
cron timer; a rep 20% below the team average is told so."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from builder import clock
from builder.extensions import db
from builder.platform import service
from builder.runtime.jobs import timers
from builder.runtime.reports.models import AlertFiring
from builder.runtime.reports.schedules import timer_key
from tests.runtime.records.helpers import create, publish
from tests.runtime.reports.report_apps import alert_app, at

WEEK1, WEEK2 = "2026-06-01", "2026-06-08"  # Mondays; the alert runs on Monday 2026-06-15


@pytest.fixture
def sales(client, tenant, admin, admin_headers, make_user, auth_headers):
    """Reps in team east (managed by ``boss``) with targets of 100,000 a week and deals:
    ``low`` 60% then 50%, ``steady`` 70% both weeks, ``once`` 50% then 90%."""
    clock.travel_to(at("2026-06-14", 12), frozen=True)
    publish(client, admin_headers, alert_app())
    boss = make_user(tenant, "boss")
    reps = {name: make_user(tenant, name, team="east") for name in ("low", "steady", "once")}
    team = service.get_team(tenant.id, reps["low"].teams[0].id)
    service.update_team(team, manager=boss)
    db.session.commit()
    weekly = {"low": (60000, 50000), "steady": (70000, 70000), "once": (50000, 90000)}
    for name, amounts in weekly.items():
        for week, amount in zip((WEEK1, WEEK2), amounts, strict=True):
            create(client, admin_headers, "sales_target",
                   {"rep": reps[name].id, "week": week, "amount": 100000}, app="sales")
            day = (date.fromisoformat(week) + timedelta(days=2)).isoformat()  # Wednesday
            create(client, auth_headers(reps[name]), "deal",
                   {"name": f"{name}-{week}", "amount": amount, "closed_on": day}, app="sales")
    return {"boss": boss, **reps}


def tasks(client, headers) -> list[dict[str, Any]]:
    response = client.get("/api/apps/sales/coaching_task/records", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def inbox(client, headers) -> list[dict[str, Any]]:
    response = client.get("/api/notifications", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_two_weeks_under_target_coach_once_and_tell_the_manager(
        client, tenant, admin_headers, auth_headers, sales, run_jobs):
    [pending] = timers.pending(tenant.id, timer_key("alerts", "sales", "coaching"))
    assert pending.due_at == at("2026-06-15", 9)

    clock.travel_to(at("2026-06-15", 8, 59), frozen=True)
    assert timers.run_due() == 0
    clock.travel_to(at("2026-06-15", 9), frozen=True)
    assert timers.run_due() == 2  # both alerts are due on Monday 09:00
    run_jobs()

    [task] = tasks(client, admin_headers)
    low = sales["low"]
    assert task["title"] == f"辅导:{low.username}"
    assert (task["rep"], task["owner"], task["achievement"], task["week"]) == (
        low.id, low.id, 50.0, WEEK2)
    [notice] = inbox(client, auth_headers(sales["boss"]))
    assert notice["subject"] == f"{low.username} 连续两周未达成目标的65%"
    assert notice["body"] == "上周达成率 50%,已创建辅导任务"
    assert notice["link"]["record_id"] == task["id"]
    for name in ("steady", "once"):
        assert not any(n["subject"].endswith("65%") for n in inbox(
            client, auth_headers(sales[name])))

    # judged again the same week (on demand, and by a second timer run): nothing more
    clock.travel_to(at("2026-06-17", 15), frozen=True)
    response = client.post("/api/apps/sales/alerts/coaching/run", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == []
    assert timers.run_due() == 0
    run_jobs()
    assert len(tasks(client, admin_headers)) == 1
    assert len(inbox(client, auth_headers(sales["boss"]))) == 1

    firings = client.get("/api/apps/sales/alerts/firings?alert=coaching",
                         headers=admin_headers).get_json()["items"]
    assert [(f["subject"], f["period_start"], f["period_end"]) for f in firings] == [
        (str(low.id), WEEK2, "2026-06-14")]
    assert [p["achievement"] for p in firings[0]["figures"]] == [0.6, 0.5]
    assert [r["type"] for r in firings[0]["results"]] == ["create_record", "notify"]
    history = client.get(f"/api/apps/sales/coaching_task/records/{task['id']}/history",
                         headers=admin_headers).get_json()
    assert history, "the engine's record is audited"


def test_twenty_percent_below_the_team_average(client, tenant, admin_headers, auth_headers,
                                               sales, run_jobs):
    clock.travel_to(at("2026-06-15", 10), frozen=True)
    response = client.post("/api/apps/sales/alerts/below_average/run", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    [firing] = response.get_json()["items"]
    figures = firing["figures"][-1]
    # last week: low 50,000, steady 70,000, once 90,000: the team averages 70,000
    assert (firing["subject"], figures["value"], figures["team_average"]) == (
        str(sales["low"].id), 50000, 70000)
    assert figures["vs_team_average"] == pytest.approx(0.7143)
    run_jobs()
    [notice] = inbox(client, auth_headers(sales["low"]))
    assert notice["body"] == "50,000 / 70,000"
    assert client.post("/api/apps/sales/alerts/below_average/run",
                       headers=admin_headers).get_json()["items"] == []
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AlertFiring))
    assert count == 1


def test_alerts_are_managed_by_app_admins_only(client, tenant, sales, auth_headers):
    response = client.post("/api/apps/sales/alerts/coaching/run",
                           headers=auth_headers(sales["low"]))
    assert response.status_code == 403
    response = client.get("/api/apps/sales/alerts/firings", headers=auth_headers(sales["low"]))
    assert response.status_code == 403
