"""SLA timers over the real API, with the business clock moved by the test: a lead's
first-response countdown reminds, flags and reassigns at its steps (never early, each
once), a follow-up stops it, working hours shift it, and the record shows its state."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from builder import clock
from builder.runtime.jobs import timers
from tests.runtime.automation.helpers import (
    APP,
    get_record,
    list_records,
    new_lead,
    setup,
)
from tests.runtime.records.helpers import create

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 9, 21, tzinfo=SH)


LEAD_RULE = {"key": "leads", "entity": "lead", "on_create": False,
             "rules": [{"key": "reps", "pool": {"role": "sales"}, "strategy": "round_robin"}]}


def first_response(**changes: Any) -> dict[str, Any]:
    """新线索 2 小时响应倒计时: remind the owner 30 min before, flag the lead red on the
    supervisor's board at the deadline, hand it to another rep an hour after it."""
    policy = {
        "key": "first_response", "entity": "lead", "start": "created", "minutes": 120,
        "stop": {">": [{"var": "$count.followup.lead"}, 0]},
        "escalations": [
            {"key": "remind", "offset_minutes": -30, "action": {
                "type": "notify", "to": "owner",
                "subject": {"zh-CN": "线索即将超时：{name}", "en": "Lead about to expire: {name}"},
                "message": "请在 30 分钟内联系客户"}},
            {"key": "flag", "offset_minutes": 0,
             "action": {"type": "set_fields", "set": {"flagged": True}}},
            {"key": "reassign", "offset_minutes": 60,
             "action": {"type": "assign", "rule": "leads", "reassign": True}}]}
    policy.update(changes)
    return policy


def sales_setup(client: Any, headers: dict[str, str], make_user: Any, tenant: Any,
                **policy: Any) -> tuple[Any, Any]:
    """The app with the policy and two reps of the sales role; returns them."""
    setup(client, headers, sla_policies=[first_response(**policy)],
          assignment_rules=[LEAD_RULE], roles=[{"key": "sales", "title": {"zh-CN": "销售"}}])
    return make_user(tenant, "rep", roles=["sales"]), make_user(tenant, "rep2", roles=["sales"])


def inbox(client: Any, headers: dict[str, str]) -> list[str]:
    return [n["subject"] for n in client.get("/api/notifications", headers=headers)
            .get_json()["items"]]


@pytest.fixture
def at_time(run_jobs: Any) -> Any:
    def move(hour: int, minute: int = 0, day: int = 0) -> None:
        clock.travel_to(MONDAY + timedelta(days=day, hours=hour, minutes=minute), frozen=True)
        timers.run_due()
        run_jobs()

    return move


def sla_state(client: Any, headers: dict[str, str], lead_id: int) -> dict[str, Any]:
    response = client.get(f"/api/apps/{APP}/lead/records/{lead_id}/sla", headers=headers)
    assert response.status_code == 200, response.get_json()
    [item] = response.get_json()["items"]
    return item  # type: ignore[no-any-return]


def fired(state: dict[str, Any]) -> dict[str, str | None]:
    return {s["key"]: s["run"] and s["run"]["status"] for s in state["steps"]}


def test_a_lead_without_follow_up_is_reminded_flagged_and_reassigned_on_time(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        at_time: Any) -> None:
    rep, rep2 = sales_setup(client, admin_headers, make_user, tenant)
    clock.travel_to(MONDAY + timedelta(hours=10), frozen=True)
    lead = new_lead(client, auth_headers(rep), name="常州电机")
    state = sla_state(client, admin_headers, lead["id"])
    assert (state["due_at"], state["status"], state["breached"]) == (
        "2026-09-21T04:00:00Z", "running", False)
    assert state["remaining_minutes"] == 120
    assert [(s["key"], s["at"]) for s in state["steps"]] == [
        ("remind", "2026-09-21T03:30:00Z"), ("flag", "2026-09-21T04:00:00Z"),
        ("reassign", "2026-09-21T05:00:00Z")]

    at_time(11, 29)
    assert inbox(client, auth_headers(rep)) == []
    assert fired(sla_state(client, admin_headers, lead["id"])) == {
        "remind": None, "flag": None, "reassign": None}
    at_time(11, 30)
    assert inbox(client, auth_headers(rep)) == ["线索即将超时：常州电机"]
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None

    at_time(11, 59)
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None
    at_time(12, 0)
    lead_now = get_record(client, admin_headers, "lead", lead["id"])
    assert lead_now["flagged"] is True and lead_now["owner"] == rep.id
    board = list_records(client, admin_headers, "lead",
                         filter='{"==": [{"var": "flagged"}, true]}')
    assert [r["id"] for r in board] == [lead["id"]]  # red on the supervisor's board
    state = sla_state(client, admin_headers, lead["id"])
    assert state["breached"] is True and state["remaining_minutes"] == 0
    assert fired(state) == {"remind": "succeeded", "flag": "succeeded", "reassign": None}

    at_time(12, 59)
    assert get_record(client, admin_headers, "lead", lead["id"])["owner"] == rep.id
    at_time(13, 0)
    assert get_record(client, admin_headers, "lead", lead["id"])["owner"] == rep2.id
    at_time(18, 0)
    at_time(9, 0, day=2)
    assert inbox(client, auth_headers(rep)) == ["线索即将超时：常州电机"]  # once
    assert get_record(client, admin_headers, "lead", lead["id"])["owner"] == rep2.id
    state = sla_state(client, admin_headers, lead["id"])
    assert fired(state) == {"remind": "succeeded", "flag": "succeeded",
                            "reassign": "succeeded"}
    assert state["status"] == "running" and state["remaining_minutes"] < 0
    runs = client.get(f"/api/apps/{APP}/automations/first_response/runs",
                      headers=admin_headers, query_string={"kind": "sla"}).get_json()["items"]
    assert [(r["trigger"], r["status"], r["record_id"]) for r in runs] == [
        ("escalation:reassign", "succeeded", lead["id"]),
        ("escalation:flag", "succeeded", lead["id"]),
        ("escalation:remind", "succeeded", lead["id"])]
    assert [r["finished_at"] for r in runs] == [
        "2026-09-21T05:00:00Z", "2026-09-21T04:00:00Z", "2026-09-21T03:30:00Z"]
    history = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert [(h["action"], sorted(h["changes"])) for h in history] == [
        ("update", ["owner"]), ("update", ["flagged"]),
        ("create", ["name", "owner", "status"])]
    assert (history[0]["before"]["owner"], history[0]["after"]["owner"]) == (rep.id, rep2.id)


def test_a_follow_up_before_the_reminder_stops_the_clock(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        at_time: Any) -> None:
    rep, _rep2 = sales_setup(client, admin_headers, make_user, tenant)
    clock.travel_to(MONDAY + timedelta(hours=10), frozen=True)
    lead = new_lead(client, auth_headers(rep))
    at_time(11, 0)
    create(client, auth_headers(rep), "followup", {"lead": lead["id"], "note": "已致电"},
           app=APP)
    state = sla_state(client, admin_headers, lead["id"])
    assert (state["status"], state["stopped_at"], state["breached"]) == (
        "met", "2026-09-21T03:00:00Z", False)
    assert state["remaining_minutes"] is None
    for hour in (11, 12, 13, 17):
        at_time(hour, 30)
    assert inbox(client, auth_headers(rep)) == []
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert (lead["flagged"], lead["owner"]) == (None, rep.id)
    assert fired(sla_state(client, admin_headers, lead["id"])) == {
        "remind": None, "flag": None, "reassign": None}


def test_working_hours_move_the_deadline_past_the_night_and_the_weekend(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        at_time: Any) -> None:
    hours = {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
    rep, _rep2 = sales_setup(client, admin_headers, make_user, tenant, working_hours=hours)
    friday = MONDAY + timedelta(days=4, hours=17)
    clock.travel_to(friday, frozen=True)
    lead = new_lead(client, auth_headers(rep))
    state = sla_state(client, admin_headers, lead["id"])
    # 1 h on Friday, 1 h on Monday: due Monday 10:00; remind Monday 09:30; reassign 11:00
    assert state["due_at"] == "2026-09-28T02:00:00Z"
    assert [s["at"] for s in state["steps"]] == [
        "2026-09-28T01:30:00Z", "2026-09-28T02:00:00Z", "2026-09-28T03:00:00Z"]
    at_time(23, 0, day=6)  # Sunday night: nothing yet
    assert inbox(client, auth_headers(rep)) == []
    at_time(9, 30, day=7)
    assert len(inbox(client, auth_headers(rep))) == 1


def test_a_stage_policy_starts_on_entering_the_stage_and_stops_on_leaving_it(
        client: Any, admin_headers: Any, at_time: Any) -> None:
    flow = {"key": "pipeline", "entity": "lead", "field": "status", "stages": [
        {"key": "new"}, {"key": "contacted"}, {"key": "qualified"}]}
    policy = first_response(key="proposal_due", start="stage_entered", stage="contacted",
                            minutes=60, stop=None, escalations=[
                                {"key": "task", "offset_minutes": -30, "action": {
                                    "type": "create_record", "entity": "task",
                                    "set": {"title": "准备方案", "lead": {"var": "id"}}}},
                                {"key": "flag", "offset_minutes": 0, "action": {
                                    "type": "set_fields", "set": {"flagged": True}}}])
    setup(client, admin_headers, sla_policies=[policy], stage_flows=[flow])
    clock.travel_to(MONDAY + timedelta(hours=10), frozen=True)
    lead = new_lead(client, admin_headers)
    assert client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/sla",
                      headers=admin_headers).get_json()["items"] == []
    response = client.post(f"/api/apps/{APP}/lead/records/{lead['id']}/transition",
                           json={"to": "contacted", "version": lead["version"], "data": {}},
                           headers=admin_headers)
    assert response.status_code == 200
    state = sla_state(client, admin_headers, lead["id"])
    assert (state["policy"], state["due_at"]) == ("proposal_due", "2026-09-21T03:00:00Z")
    at_time(10, 30)
    assert len(list_records(client, admin_headers, "task")) == 1
    lead = get_record(client, admin_headers, "lead", lead["id"])
    client.post(f"/api/apps/{APP}/lead/records/{lead['id']}/transition",
                json={"to": "qualified", "version": lead["version"], "data": {}},
                headers=admin_headers)
    assert sla_state(client, admin_headers, lead["id"])["status"] == "cancelled"
    at_time(12, 0)
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None
