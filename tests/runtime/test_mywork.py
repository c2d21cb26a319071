"""My tasks: the running SLA clocks of the records I own, soonest deadline first, with the
working time left; met clocks, other people's records and other tenants stay out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from builder import clock
from builder.runtime.jobs import timers
from tests.runtime.automation.helpers import new_lead, setup
from tests.runtime.automation.test_sla_escalation import first_response

MONDAY = datetime(2026, 9, 21, tzinfo=ZoneInfo("Asia/Shanghai"))


def mine(client: Any, headers: dict[str, str]) -> list[tuple[str, float, bool]]:
    response = client.get("/api/my/sla", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [(i["record_title"], i["remaining_minutes"], i["breached"])
            for i in response.get_json()["items"]]


def test_my_running_clocks_soonest_first(client: Any, admin_headers: dict[str, str],
                                         make_user: Any, auth_headers: Any, tenant: Any,
                                         make_tenant: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, sla_policies=[first_response(escalations=[])],
          roles=[{"key": "sales", "title": {"zh-CN": "销售"}}])
    rep = make_user(tenant, "rep", roles=["sales"])
    other = make_user(tenant, "other", roles=["sales"])
    clock.travel_to(MONDAY + timedelta(hours=10), frozen=True)
    new_lead(client, auth_headers(rep), name="常州电机")
    clock.travel_to(MONDAY + timedelta(hours=10, minutes=30), frozen=True)
    second = new_lead(client, auth_headers(rep), name="苏州阀门")
    new_lead(client, auth_headers(other), name="别人的线索")
    clock.travel_to(MONDAY + timedelta(hours=11), frozen=True)

    item = client.get("/api/my/sla", headers=auth_headers(rep)).get_json()["items"][0]
    assert {k: item[k] for k in ("app", "entity", "policy", "minutes", "due_at")} == {
        "app": "sales", "entity": "lead", "policy": "first_response", "minutes": 120,
        "due_at": "2026-09-21T04:00:00Z"}
    assert mine(client, auth_headers(rep)) == [("常州电机", 60, False), ("苏州阀门", 90, False)]

    # a follow-up meets the second lead's clock; the first runs past its deadline
    response = client.post("/api/apps/sales/followup/records", headers=auth_headers(rep),
                           json={"data": {"lead": second["id"], "note": "已电话联系"}})
    assert response.status_code == 201, response.get_json()
    clock.travel_to(MONDAY + timedelta(hours=12, minutes=15), frozen=True)
    timers.run_due()
    run_jobs()
    assert mine(client, auth_headers(rep)) == [("常州电机", -15, True)]
    assert mine(client, auth_headers(make_user(make_tenant("elsewhere"), "x"))) == []
