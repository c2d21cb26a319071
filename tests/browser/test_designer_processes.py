"""A manager builds an app's processes in the designer without typing JSON: a stage flow
with a probability and an entry rule, an approval chain of two steps, a metric and a
dashboard whose widgets are dragged onto the grid; publishing makes them live."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated
from tests.browser.test_designer_to_form import choose
from tests.definitions import entity, field, minimal_app, option
from tests.runtime.records.helpers import publish


def deals_with_stages() -> dict[str, Any]:
    return minimal_app(entity("deal", "交易", "Deal", [
        field("name", "text", "名称", "Name", required=True),
        field("stage", "select", "阶段", "Stage", options=[
            option("lead", "线索", "Lead"), option("proposal", "方案", "Proposal"),
            option("won", "赢单", "Won"), option("lost", "输单", "Lost")]),
        field("amount", "money", "金额", "Amount"),
    ], title_field="name"))


def drag_widget(page: Page, widget_type: str) -> None:
    grid = page.get_by_test_id("dashboard-grid")
    box = grid.bounding_box()
    assert box is not None
    page.get_by_test_id(f"widget-palette-{widget_type}").drag_to(
        grid, target_position={"x": box["width"] - 20, "y": box["height"] - 10})


def test_manager_builds_processes_and_publishes(page: Page, live_server: str, client: Any,
                                                admin_headers: dict[str, str],
                                                shots: Any) -> None:
    publish(client, admin_headers, deals_with_stages())
    login(page, live_server, "admin")
    page.goto(f"{live_server}/designer/demo")
    page.get_by_test_id("mode-processes").click()
    processes = page.get_by_test_id("processes")

    # --- a stage flow over the stage field: 方案 needs an amount above 0 -----------------------
    processes.get_by_test_id("flow-add").click()
    form = processes.get_by_test_id("flow-form")
    expect(form.get_by_test_id("flow-stage-won")).to_be_visible()
    form.get_by_test_id("flow-stage-proposal").click()
    form.get_by_test_id("stage-probability").locator("input").fill("60")
    entry = form.get_by_test_id("stage-entry")
    entry.get_by_test_id("condition-add").click()
    choose(page, entry.get_by_test_id("condition-field"), "金额")
    choose(page, entry.get_by_test_id("condition-op"), "大于")
    entry.get_by_test_id("condition-value").locator("input").fill("0")
    form.get_by_test_id("flow-stage-won").click()
    choose(page, form.get_by_test_id("stage-terminal"), "赢单（结束）")
    form.get_by_test_id("flow-stage-lost").click()
    choose(page, form.get_by_test_id("stage-terminal"), "输单（结束）")
    shots(page, "stage-flow")

    # --- an approval chain: the manager, then the tenant admins -------------------------------
    processes.get_by_role("tab", name="审批流程").click()
    processes.get_by_test_id("chain-add").click()
    chain = processes.get_by_test_id("chain-form")
    chain.get_by_test_id("chain-step-add").click()
    chain.get_by_test_id("chain-step-add").click()
    second = chain.get_by_test_id("chain-step-1")
    choose(page, second.get_by_test_id("step-approver"), "某个角色")
    choose(page, second.get_by_test_id("step-role"), "租户管理员")
    shots(page, "approval-chain")

    # --- a metric and a dashboard with two widgets dragged onto the grid ---------------------
    processes.get_by_role("tab", name="指标").click()
    processes.get_by_test_id("metric-add").click()
    processes.get_by_role("tab", name="仪表盘").click()
    processes.get_by_test_id("dashboard-add").click()
    drag_widget(page, "number")
    drag_widget(page, "funnel")
    widgets = processes.locator("[data-test^=grid-widget-]")
    expect(widgets).to_have_count(2)
    expect(widgets.nth(1)).to_contain_text("漏斗图")
    shots(page, "dashboard-grid")
    assert untranslated(page) == []

    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("unsaved")).to_have_count(0)
    expect(page.get_by_test_id("definition-problems")).to_have_count(0)
    page.get_by_test_id("publish").click()
    page.get_by_test_id("publish-dialog").get_by_test_id("publish-confirm").click()
    expect(page.locator(".el-message--success", has_text="v2")).to_be_visible()

    live = client.get("/api/apps/demo", headers=admin_headers).get_json()["definition"]
    flow = live["stage_flows"][0]
    assert (flow["entity"], flow["field"]) == ("deal", "stage")
    stages = {s["key"]: s for s in flow["stages"]}
    assert stages["proposal"]["probability"] == 60
    assert stages["proposal"]["entry"] == {">": [{"var": "amount"}, 0]}
    assert (stages["won"]["terminal"], stages["lost"]["terminal"]) == ("won", "lost")
    steps = live["approval_chains"][0]["steps"]
    assert [s["approver"] for s in steps] == [
        {"type": "manager_of", "of": "submitter", "levels": 1}, {"type": "role", "role": "admin"}]
    metric = live["metrics"][0]
    assert (metric["entity"], metric["aggregate"]) == ("deal", "count")
    board = live["dashboards"][0]
    assert [(w["type"], w["metrics"], w["layout"]) for w in board["widgets"]] == [
        ("number", [metric["key"]], {"x": 0, "y": 0, "w": 3, "h": 1}),
        ("funnel", [metric["key"]], {"x": 3, "y": 0, "w": 6, "h": 2})]

    # the app now has its board and its dashboard
    page.goto(f"{live_server}/apps/demo/dashboards/{board['key']}")
    expect(page.get_by_test_id("dashboard").locator("[data-type=funnel] canvas")).to_have_count(1)
    expect(page.get_by_test_id(re.compile(r"nav-board-"))).to_have_count(1)
