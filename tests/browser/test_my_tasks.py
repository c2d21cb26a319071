"""A rep's tasks page: each lead running against its two-hour response deadline shows a
countdown, green with time left, amber when little is left, red once overdue; the lead's
own page shows the same countdown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from builder import clock
from tests.browser.conftest import login, untranslated
from tests.runtime.automation.helpers import new_lead, setup
from tests.runtime.automation.test_sla_escalation import first_response

MONDAY = datetime(2026, 9, 21, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_sla_countdowns_turn_amber_and_red(page: Page, live_server: str, client: Any,
                                           admin_headers: dict[str, str], make_user: Any,
                                           auth_headers: Any, tenant: Any, shots: Any) -> None:
    setup(client, admin_headers, sla_policies=[first_response(escalations=[])],
          roles=[{"key": "sales", "title": {"zh-CN": "销售"}}])
    rep = make_user(tenant, "rep", roles=["sales"])
    leads = {}
    for minutes, name in ((0, "常州电机"), (60, "苏州阀门"), (150, "无锡轴承")):
        clock.travel_to(MONDAY + timedelta(hours=9, minutes=minutes), frozen=True)
        leads[name] = new_lead(client, auth_headers(rep), name=name)
    clock.travel_to(MONDAY + timedelta(hours=11, minutes=40), frozen=True)

    login(page, live_server, "rep")
    page.get_by_test_id("nav-tasks").click()
    levels = {name: page.get_by_test_id(f"my-task-{lead['id']}").get_by_test_id("sla-countdown")
              for name, lead in leads.items()}
    expect(levels["常州电机"]).to_have_attribute("data-level", "red")      # due 11:00
    expect(levels["常州电机"]).to_contain_text("已超时 40 分钟")
    expect(levels["苏州阀门"]).to_have_attribute("data-level", "amber")    # due 12:00
    expect(levels["苏州阀门"]).to_contain_text("剩余 20 分钟")
    expect(levels["无锡轴承"]).to_have_attribute("data-level", "green")    # due 13:30
    expect(levels["无锡轴承"]).to_contain_text("剩余 1 小时 50 分")
    tasks = page.locator("[data-test^=my-task-]")
    expect(tasks.first).to_contain_text("常州电机")  # soonest deadline first
    shots(page, "my-tasks")
    assert untranslated(page) == []

    tasks.nth(1).click()
    expect(page.get_by_test_id("record-sla").get_by_test_id("sla-countdown")).to_have_attribute(
        "data-level", "amber")
