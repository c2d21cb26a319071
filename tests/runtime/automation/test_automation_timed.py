"""Timed triggers over the real API with the business clock moved by the test: not
opened in time, a date reached, a cron schedule, no activity for N (working) days."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from builder import clock
from builder.runtime.jobs import timers
from tests.runtime.automation.helpers import (
    APP,
    automation,
    get_record,
    list_records,
    new_lead,
    runs,
    sales_app,
    setup,
)
from tests.runtime.records.helpers import create, patch

SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 9, 21, 9, 0, tzinfo=SH)
FLAG = [{"type": "set_fields", "set": {"flagged": True}}]
TASK = [{"type": "create_record", "entity": "task", "set": {
    "title": {"cat": ["唤醒：", {"var": "name"}]}, "lead": {"var": "id"},
    "assignee": {"var": "owner"}}}]


@pytest.fixture
def move(run_jobs: Any) -> Any:
    """Jump the business clock (frozen) and let due timers and jobs run."""

    def to(moment: datetime) -> None:
        clock.travel_to(moment, frozen=True)
        timers.run_due()
        run_jobs()

    clock.travel_to(MONDAY_9, frozen=True)
    return to


def test_not_opened_by_the_owner_in_time(client: Any, admin_headers: Any, make_user: Any,
                                        auth_headers: Any, tenant: Any, move: Any) -> None:
    setup(client, admin_headers, automation("unread", {"type": "not_opened", "hours": 2},
                                            FLAG))
    rep = make_user(tenant, "rep")
    ignored = new_lead(client, auth_headers(rep), name="没人看")
    opened = new_lead(client, auth_headers(rep), name="看过了")
    move(MONDAY_9 + timedelta(minutes=30))
    get_record(client, admin_headers, "lead", opened["id"])  # not the owner: still counts
    get_record(client, auth_headers(rep), "lead", opened["id"])
    move(MONDAY_9 + timedelta(hours=1, minutes=59))
    assert runs(client, admin_headers, "unread") == []
    move(MONDAY_9 + timedelta(hours=2))
    assert get_record(client, admin_headers, "lead", ignored["id"])["flagged"] is True
    assert get_record(client, admin_headers, "lead", opened["id"])["flagged"] is None
    [run] = runs(client, admin_headers, "unread")
    assert (run["record_id"], run["status"], run["user_id"]) == (ignored["id"], "succeeded",
                                                                  None)
    move(MONDAY_9 + timedelta(hours=5))
    assert len(runs(client, admin_headers, "unread")) == 1


def test_date_reached_follows_the_field_as_it_changes(client: Any, admin_headers: Any,
                                                     move: Any) -> None:
    setup(client, admin_headers, automation(
        "touch_day", {"type": "date_reached", "field": "next_touch", "time": "10:00",
                      "offset_minutes": -30}, TASK))
    lead = new_lead(client, admin_headers, next_touch="2026-09-23")
    cleared = new_lead(client, admin_headers, name="取消", next_touch="2026-09-22")
    patch(client, admin_headers, "lead", cleared, {"next_touch": None}, app=APP)
    lead = patch(client, admin_headers, "lead", lead, {"next_touch": "2026-09-24"},
                 app=APP).get_json()
    move(datetime(2026, 9, 23, 9, 30, tzinfo=SH))  # the old date: nothing
    assert list_records(client, admin_headers, "task") == []
    move(datetime(2026, 9, 24, 9, 29, tzinfo=SH))
    assert list_records(client, admin_headers, "task") == []
    move(datetime(2026, 9, 24, 9, 30, tzinfo=SH))
    [task] = list_records(client, admin_headers, "task")
    assert task["lead"] == lead["id"]
    [run] = runs(client, admin_headers, "touch_day")
    assert run["trigger"] == "date_reached"


def test_a_schedule_runs_per_matching_record_at_each_occurrence(
        client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers, automation(
        "daily_nudge", {"type": "schedule", "cron": "0 9 * * 1-5", "per_record": True}, TASK,
        condition={"==": [{"var": "status"}, "new"]}))
    new_lead(client, admin_headers, name="新线索")
    qualified = new_lead(client, admin_headers, name="已确认")
    patch(client, admin_headers, "lead", qualified, {"status": "qualified"}, app=APP)
    move(datetime(2026, 9, 21, 23, 0, tzinfo=SH))
    assert list_records(client, admin_headers, "task") == []
    move(datetime(2026, 9, 22, 9, 0, tzinfo=SH))
    assert [t["title"] for t in list_records(client, admin_headers, "task")] == [
        "唤醒：新线索"]
    move(datetime(2026, 9, 26, 9, 0, tzinfo=SH))  # Saturday: missed Wed-Fri collapse into one
    move(datetime(2026, 9, 27, 9, 0, tzinfo=SH))  # Sunday: no occurrence
    assert len(list_records(client, admin_headers, "task")) == 2


def test_a_schedule_without_records_runs_once_per_occurrence(
        client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers, automation(
        "morning_report", {"type": "schedule", "cron": "0 9 * * *"},
        [{"type": "create_record", "entity": "task",
          "set": {"title": {"cat": ["日报 ", {"var": "$today"}]}}}]))
    move(datetime(2026, 9, 22, 9, 0, tzinfo=SH))
    move(datetime(2026, 9, 23, 9, 0, tzinfo=SH))
    assert sorted(t["title"] for t in list_records(client, admin_headers, "task")) == [
        "日报 2026-09-22", "日报 2026-09-23"]


def test_no_activity_counts_related_records_and_working_days(
        client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers, automation(
        "quiet_key_accounts",
        {"type": "no_activity", "days": 5, "working_days": True,
         "activity": [{"entity": "followup"}, {"field": "first_contact_at"}]},
        TASK, condition={"==": [{"var": "key_account"}, True]}))
    quiet = new_lead(client, admin_headers, name="沉默客户", key_account=True)
    busy = new_lead(client, admin_headers, name="活跃客户", key_account=True)
    new_lead(client, admin_headers, name="普通客户")
    move(datetime(2026, 9, 24, 10, 0, tzinfo=SH))
    create(client, admin_headers, "followup", {"lead": busy["id"], "note": "拜访"}, app=APP)
    patch(client, admin_headers, "lead", quiet, {"notes": "edits are not activity here"},
          app=APP)
    move(datetime(2026, 9, 28, 8, 0, tzinfo=SH))  # Monday 08:00: 4 working days and 23 h
    assert list_records(client, admin_headers, "task") == []
    move(datetime(2026, 9, 28, 9, 0, tzinfo=SH))  # 5 working days after Monday 09:00
    assert [t["title"] for t in list_records(client, admin_headers, "task")] == [
        "唤醒：沉默客户"]
    move(datetime(2026, 9, 29, 9, 0, tzinfo=SH))
    move(datetime(2026, 10, 1, 9, 0, tzinfo=SH))
    assert len(list_records(client, admin_headers, "task")) == 1  # once per quiet spell
    move(datetime(2026, 10, 1, 10, 0, tzinfo=SH))  # busy: 5 working days after its follow-up
    assert sorted(t["title"] for t in list_records(client, admin_headers, "task")) == [
        "唤醒：沉默客户", "唤醒：活跃客户"]


def test_dormant_customers_45_days_without_interaction(client: Any, admin_headers: Any,
                                                       move: Any) -> None:
    setup(client, admin_headers, automation(
        "dormant", {"type": "no_activity", "days": 45}, TASK))
    lead = new_lead(client, admin_headers, name="休眠客户")
    move(MONDAY_9 + timedelta(days=44, hours=23))
    patch(client, admin_headers, "lead", get_record(client, admin_headers, "lead", lead["id"]),
          {"notes": "called"}, app=APP)  # any change counts by default
    move(MONDAY_9 + timedelta(days=46))
    assert list_records(client, admin_headers, "task") == []
    move(MONDAY_9 + timedelta(days=44 + 46))
    assert len(list_records(client, admin_headers, "task")) == 1


def test_publishing_without_an_automation_cancels_its_timers(
        client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers,
          automation("unread", {"type": "not_opened", "hours": 2}, FLAG),
          automation("daily", {"type": "schedule", "cron": "0 10 * * *"}, TASK))
    lead = new_lead(client, admin_headers)
    definition = sales_app([automation("daily", {"type": "schedule", "cron": "0 11 * * *"},
                                       TASK)])
    assert client.put(f"/api/apps/{APP}/draft", json={"definition": definition},
                      headers=admin_headers).status_code == 200
    assert client.post(f"/api/apps/{APP}/publish", headers=admin_headers).status_code == 200
    move(MONDAY_9 + timedelta(hours=1, minutes=30))  # 10:30
    assert list_records(client, admin_headers, "task") == []  # 10:00 is no longer the time
    move(MONDAY_9 + timedelta(hours=3))  # 12:00
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None
    assert runs(client, admin_headers, "unread") == []
    [task] = list_records(client, admin_headers, "task")
    assert task["created_at"] == "2026-09-21T04:00:00Z"  # fired as of 12:00, for 11:00


def test_timed_triggers_are_checked_at_publish(client: Any, admin_headers: Any) -> None:
    definition = sales_app([
        automation("a", {"type": "schedule", "cron": "every day"}, TASK),
        automation("b", {"type": "date_reached", "field": "name"}, TASK),
        automation("c", {"type": "no_activity", "days": 0, "activity": [{"entity": "task"},
                                                                         {"entity": "lead"}]},
                   TASK),
        automation("d", {"type": "not_opened"}, TASK)])
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    assert {d["path"]: d["code"] for d in response.get_json()["error"]["details"]} == {
        "automations[0].trigger.cron": "bad_cron",
        "automations[1].trigger.field": "date_field",
        "automations[2].trigger.days": "param_positive",
        "automations[2].trigger.activity[1]": "bad_activity",
        "automations[3].trigger.hours": "param_required"}


def test_a_new_date_automation_arms_the_records_already_there(
        client: Any, admin_headers: Any, move: Any, run_jobs: Any) -> None:
    setup(client, admin_headers)
    future = new_lead(client, admin_headers, name="下周跟进", next_touch="2026-09-25")
    new_lead(client, admin_headers, name="已过期", next_touch="2026-09-20")
    new_lead(client, admin_headers, name="无日期")
    definition = sales_app([automation(
        "touch_day", {"type": "date_reached", "field": "next_touch"}, TASK)])
    client.put(f"/api/apps/{APP}/draft", json={"definition": definition}, headers=admin_headers)
    assert client.post(f"/api/apps/{APP}/publish", headers=admin_headers).status_code == 200
    run_jobs()
    move(datetime(2026, 9, 25, 8, 59, tzinfo=SH))
    assert list_records(client, admin_headers, "task") == []
    move(datetime(2026, 9, 25, 9, 0, tzinfo=SH))
    assert [(t["title"], t["lead"]) for t in list_records(client, admin_headers, "task")] == [
        ("唤醒：下周跟进", future["id"])]
