"""``schedule_pick``: the first N by a sort or a random share, at each occurrence; and the
``recompute`` action that refreshes figures depending on the time."""

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
    list_records,
    new_lead,
    runs,
    setup,
)
from tests.runtime.records.helpers import patch

SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 9, 21, 9, 0, tzinfo=SH)
TASK = [{"type": "create_record", "entity": "task", "set": {
    "title": {"cat": ["第", {"var": "$trigger.rank"}, "名：", {"var": "name"}]},
    "lead": {"var": "id"}}}]


@pytest.fixture
def move(run_jobs: Any) -> Any:
    def to(moment: datetime) -> None:
        clock.travel_to(moment, frozen=True)
        timers.run_due()
        run_jobs()

    clock.travel_to(MONDAY_9, frozen=True)
    return to


def test_the_first_ones_by_a_sort(client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers, automation(
        "top3", {"type": "schedule_pick", "cron": "30 8 * * *", "limit": 3,
                 "sort": [{"field": "score", "desc": True, "nulls": "last"}, {"field": "name"}]},
        TASK, condition={"==": [{"var": "status"}, "new"]}))
    for name, score in (("甲", 40), ("乙", 90), ("丙", None), ("丁", 90), ("戊", 70)):
        new_lead(client, admin_headers, name=name, score=score)
    done = new_lead(client, admin_headers, name="已联系", score=99)
    patch(client, admin_headers, "lead", done, {"status": "contacted"}, app=APP)
    move(datetime(2026, 9, 22, 8, 30, tzinfo=SH))
    titles = sorted(t["title"] for t in list_records(client, admin_headers, "task"))
    assert titles == ["第1名：丁", "第2名：乙", "第3名：戊"]
    [first] = [r for r in runs(client, admin_headers, "top3") if r["record_id"] == 4]
    assert first["status"] == "succeeded"
    move(datetime(2026, 9, 23, 8, 30, tzinfo=SH))
    assert len(list_records(client, admin_headers, "task")) == 6


def test_a_random_share_with_a_minimum(client: Any, admin_headers: Any, move: Any) -> None:
    setup(client, admin_headers, automation(
        "audit", {"type": "schedule_pick", "cron": "0 14 * * 3",
                  "sample": {"percent": 10, "min": 2}},
        TASK, condition={"==": [{"var": "key_account"}, True]}))
    for index in range(31):
        new_lead(client, admin_headers, name=f"客户{index}", key_account=index < 25)
    move(datetime(2026, 9, 23, 14, 0, tzinfo=SH))
    picked = list_records(client, admin_headers, "task")
    assert len(picked) == 3  # 10% of 25, rounded up
    leads = {lead["id"]: lead for lead in list_records(client, admin_headers, "lead")}
    assert all(leads[t["lead"]]["key_account"] for t in picked)
    assert len({t["lead"] for t in picked}) == 3


def test_pick_parameters_are_checked(client: Any, admin_headers: Any) -> None:
    from tests.runtime.automation.helpers import sales_app

    definition = sales_app([
        automation("both", {"type": "schedule_pick", "cron": "0 9 * * *", "limit": 5,
                            "sample": {"percent": 5}}, TASK),
        automation("neither", {"type": "schedule_pick", "cron": "0 9 * * *"}, TASK),
        automation("badsort", {"type": "schedule_pick", "cron": "0 9 * * *", "limit": 5,
                               "sort": [{"field": "colour"}]}, TASK),
        automation("badshare", {"type": "schedule_pick", "cron": "0 9 * * *",
                                "sample": {"percent": 150}}, TASK)])
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    paths = {d["path"]: d["code"] for d in response.get_json()["error"]["details"]}
    assert paths["automations[0].trigger"] == "pick_how"
    assert paths["automations[1].trigger"] == "pick_how"
    assert paths["automations[2].trigger.sort[0].field"] == "pick_sort"
    assert paths["automations[3].trigger.sample.percent"] == "param_choice"


def test_recompute_refreshes_figures_that_depend_on_the_time(
        client: Any, admin_headers: Any, move: Any) -> None:
    from tests.definitions import field
    from tests.runtime.automation.helpers import sales_app
    from tests.runtime.records.helpers import publish

    definition = sales_app([automation(
        "age", {"type": "schedule", "cron": "0 3 * * *", "per_record": True},
        [{"type": "recompute"}])])
    lead = definition["entities"][0]
    lead["fields"].append(field("days_old", "formula", "天数", "Days", expression={
        "date_diff": [{"var": "created_at"}, {"var": "$now"}, "day"]}))
    publish(client, admin_headers, definition)
    created = new_lead(client, admin_headers)
    assert created["days_old"] in (None, 0)
    move(MONDAY_9 + timedelta(days=2, hours=18))  # Thursday 03:00: 2.75 days
    found = list_records(client, admin_headers, "lead")[0]
    assert found["days_old"] == 3 and found["name"] == "华东制造"
    [run] = [r for r in runs(client, admin_headers, "age") if r["result"][0]["changed"]][-1:]
    assert run["result"] == [{"type": "recompute", "record_id": created["id"], "changed": True}]
