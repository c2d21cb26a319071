"""The 09:00 daily report: every recipient reads their own figures (new leads, the lead
funnel, their top 3 stuck leads) in the inbox, and a DingTalk group robot the whole
team's; a figure that jumped more than 35% against the day before holds the report until
an admin releases (or discards) it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from builder import clock
from builder.extensions import db
from builder.platform import service
from builder.runtime.jobs import timers
from tests.runtime.notify.local_servers import Endpoint, http_endpoint
from tests.runtime.records.helpers import create, publish
from tests.runtime.reports.report_apps import at, report_app


@pytest.fixture
def robot() -> Iterator[Endpoint]:
    with http_endpoint("/robot/send") as endpoint:
        yield endpoint


@pytest.fixture
def team(client, tenant, admin_headers, make_user, robot):
    """Published on 2026-06-15 at 09:30 (the first report is due on the 16th at 09:00);
    reps ``rep1`` and ``rep2`` in team east, managed by ``boss``."""
    clock.travel_to(at("2026-06-15", 9, 30), frozen=True)
    publish(client, admin_headers, report_app(robot.url))
    boss = make_user(tenant, "boss", roles=["manager"])
    reps = [make_user(tenant, f"rep{i}", roles=["rep"], team="east") for i in (1, 2)]
    east = reps[0].teams[0]
    service.update_team(east, manager=boss)
    db.session.commit()
    return {"boss": boss, "rep1": reps[0], "rep2": reps[1]}


def leads(client, auth_headers, people, day: str, counts: dict[str, int]) -> None:
    clock.travel_to(at(day, 10), frozen=True)
    for name, count in counts.items():
        for index in range(count):
            create(client, auth_headers(people[name]), "lead",
                   {"name": f"{name}-{day}-{index}"}, app="sales")


def nine_oclock(day: str, run_jobs) -> None:
    """The clock reaches 09:00 in Shanghai: the report's timer fires (nothing at 08:59)."""
    clock.travel_to(at(day, 8, 59), frozen=True)
    assert timers.run_due() == 0
    clock.travel_to(at(day, 9), frozen=True)
    assert timers.run_due() == 1
    run_jobs()


def inbox(client, headers) -> list[dict[str, Any]]:
    response = client.get("/api/notifications", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def latest_report(client, headers) -> dict[str, Any]:
    return next(n for n in inbox(client, headers) if n["subject"].startswith("销售日报"))


def two_days(client, auth_headers, team, run_jobs, second: dict[str, int]) -> None:
    """10 leads on the 15th (reported on the 16th), ``second`` on the 16th."""
    leads(client, auth_headers, team, "2026-06-15", {"rep1": 5, "rep2": 5})
    nine_oclock("2026-06-16", run_jobs)
    leads(client, auth_headers, team, "2026-06-16", second)


def test_a_ten_percent_move_goes_out_at_nine(client, admin_headers, auth_headers, team,
                                             robot, run_jobs):
    two_days(client, auth_headers, team, run_jobs, {"rep1": 6, "rep2": 5})
    nine_oclock("2026-06-17", run_jobs)

    runs = client.get("/api/apps/sales/reports/runs", headers=admin_headers).get_json()
    latest = runs["items"][0]
    assert (latest["status"], latest["period_start"]) == ("sent", "2026-06-16")
    assert latest["figures"] == [{"metric": "new_leads", "title": "新线索", "value": 11,
                                  "previous": 10, "change": 0.1, "breached": False}]
    assert latest["breaches"] == []

    rep1 = latest_report(client, auth_headers(team["rep1"]))
    assert rep1["subject"] == "销售日报 · 2026-06-16"
    assert "- 新线索:6(上期 5,环比 +20.0%)" in rep1["body"]
    assert "**线索转化漏斗**" in rep1["body"] and "- 新建: 数量 11 · 到达 11" in rep1["body"]
    assert "**TOP3卡点**\n1. rep1-2026-06-15-0:停滞 1天23小时,最后操作人 rep1" \
        in rep1["body"]
    assert "rep2-" not in rep1["body"]
    rep2 = latest_report(client, auth_headers(team["rep2"]))
    assert "- 新线索:5(上期 5,环比 +0.0%)" in rep2["body"]
    boss = latest_report(client, auth_headers(team["boss"]))
    assert "- 新线索:11(上期 10,环比 +10.0%)" in boss["body"]
    assert "- 新建: 数量 21" in boss["body"]

    assert len(robot.requests) == 2  # the reports of the 16th and of the 17th
    call = robot.requests[-1]
    assert call.query["access_token"] == "tok123abc" and call.query["sign"]
    assert call.json["msgtype"] == "markdown"
    assert call.json["markdown"]["title"] == "销售日报 · 2026-06-16"
    assert "- 新线索:11(上期 10,环比 +10.0%)" in call.json["markdown"]["text"]

    # the same period asked for again: the run that exists, nothing sent twice
    clock.travel_to(at("2026-06-17", 11), frozen=True)
    again = client.post("/api/apps/sales/reports/daily_brief/run", headers=admin_headers)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == latest["id"]
    run_jobs()
    assert len(robot.requests) == 2


def test_a_forty_percent_jump_is_held_until_released(client, admin, admin_headers,
                                                     auth_headers, team, robot, run_jobs):
    two_days(client, auth_headers, team, run_jobs, {"rep1": 9, "rep2": 5})
    nine_oclock("2026-06-17", run_jobs)

    assert len(robot.requests) == 1  # only the report of the 16th went out
    assert latest_report(client, auth_headers(team["rep1"]))["subject"] == \
        "销售日报 · 2026-06-15"
    [notice] = [n for n in inbox(client, admin_headers) if "暂停" in n["subject"]]
    assert notice["subject"] == "报表已暂停推送:销售日报"
    assert "- 新线索:10 → 14(+40.0%)" in notice["body"]

    response = client.get("/api/apps/sales/reports/runs?status=held", headers=admin_headers)
    [held] = response.get_json()["items"]
    assert (held["status"], held["threshold"], held["period_start"]) == (
        "held", 0.35, "2026-06-16")
    assert held["breaches"] == [{"metric": "new_leads", "title": "新线索", "value": 14,
                                 "previous": 10, "change": 0.4, "breached": True}]
    detail = client.get(f"/api/apps/sales/reports/runs/{held['id']}",
                        headers=admin_headers).get_json()
    assert len(detail["messages"]) == 4  # rep1, rep2, boss and the robot
    assert all(m["sent_at"] is None and m["delivery_ids"] == [] for m in detail["messages"])
    robot_message = next(m for m in detail["messages"] if m["recipient_id"] is None)
    assert "tok123abc" not in robot_message["webhook"] and "SEC" not in str(robot_message)

    rep_headers = auth_headers(team["rep1"])
    assert client.get("/api/apps/sales/reports/runs", headers=rep_headers).status_code == 403
    assert client.post(f"/api/apps/sales/reports/runs/{held['id']}/release",
                       headers=rep_headers).status_code == 403

    released = client.post(f"/api/apps/sales/reports/runs/{held['id']}/release",
                           headers=admin_headers)
    assert released.status_code == 200, released.get_json()
    body = released.get_json()
    assert (body["status"], body["decided_by"]) == ("released", admin.id)
    run_jobs()
    assert len(robot.requests) == 2
    assert "- 新线索:14(上期 10,环比 +40.0%)" in robot.requests[-1].json["markdown"]["text"]
    rep1 = latest_report(client, rep_headers)
    assert rep1["subject"] == "销售日报 · 2026-06-16"
    assert "- 新线索:9(上期 5,环比 +80.0%)" in rep1["body"]

    for action in ("release", "discard"):
        again = client.post(f"/api/apps/sales/reports/runs/{held['id']}/{action}",
                            headers=admin_headers)
        assert again.status_code == 409
        assert again.get_json()["error"]["code"] == "conflict"
    assert client.get("/api/apps/sales/reports/runs?status=held",
                      headers=admin_headers).get_json()["items"] == []


def test_a_discarded_report_never_goes_out(client, admin_headers, auth_headers, team,
                                           robot, run_jobs):
    two_days(client, auth_headers, team, run_jobs, {"rep1": 1, "rep2": 1})  # -80%
    nine_oclock("2026-06-17", run_jobs)
    [held] = client.get("/api/apps/sales/reports/runs?status=held",
                        headers=admin_headers).get_json()["items"]
    assert held["breaches"][0]["change"] == -0.8
    response = client.post(f"/api/apps/sales/reports/runs/{held['id']}/discard",
                           headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["status"] == "discarded"
    run_jobs()
    assert len(robot.requests) == 1
    assert latest_report(client, auth_headers(team["rep2"]))["subject"] == \
        "销售日报 · 2026-06-15"
    assert client.post(f"/api/apps/sales/reports/runs/{held['id']}/release",
                       headers=admin_headers).status_code == 409


def test_missed_mornings_collapse_into_the_latest_report(client, admin_headers, team,
                                                         run_jobs):
    clock.travel_to(at("2026-06-18", 9, 5), frozen=True)  # nothing ran on the 16th, 17th
    assert timers.run_due() == 1
    runs = client.get("/api/apps/sales/reports/runs", headers=admin_headers).get_json()
    assert [(r["period_start"], r["status"]) for r in runs["items"]] == [
        ("2026-06-17", "sent")]
    [next_one] = timers.pending(team["boss"].tenant_id, "reports:report:sales:")
    assert next_one.due_at == at("2026-06-19", 9)


def test_a_team_robot_shows_the_team_managers_figures(client, tenant, admin_headers,
                                                      auth_headers, make_user, team, robot,
                                                      run_jobs):
    west_boss = make_user(tenant, "west_boss", roles=["manager"])
    rep3 = make_user(tenant, "rep3", roles=["rep"], team="west")
    service.update_team(rep3.teams[0], manager=west_boss)
    db.session.commit()
    definition = report_app(robot.url)
    definition["reports"][0]["robots"] = [
        {"format": "json", "url": f"{robot.url}/east", "team": "east", "language": "en"},
        {"format": "json", "url": f"{robot.url}/all"}]
    definition["reports"][0]["recipients"] = [{"team": "west"}]
    response = client.put("/api/apps/sales/draft", json={"definition": definition},
                          headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert client.post("/api/apps/sales/publish", headers=admin_headers).status_code == 200
    leads(client, auth_headers, {**team, "rep3": rep3}, "2026-06-15",
          {"rep1": 2, "rep2": 3, "rep3": 4})

    clock.travel_to(at("2026-06-16", 7), frozen=True)
    response = client.post("/api/apps/sales/reports/daily_brief/run", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert {m["recipient_id"] for m in response.get_json()["messages"]} == {
        west_boss.id, rep3.id, None}
    run_jobs()
    bodies = {call.path: call.json for call in robot.requests}
    assert bodies["/robot/send/east"]["language"] == "en"
    assert bodies["/robot/send/east"]["subject"] == "Daily sales brief · 2026-06-15"
    assert "- New leads: 5 (previous 0, -)" in bodies["/robot/send/east"]["body"]
    assert "- 新线索:9(上期 0,环比 -)" in bodies["/robot/send/all"]["body"]
    assert "- 新线索:4(上期 0,环比 -)" in latest_report(client, auth_headers(west_boss))["body"]
