"""The sales package from the market, in the browser: a rep drags an opportunity to a
stage whose criteria are unmet and reads every unmet one; a quote at 80% of list price
reaches the regional manager, finance and the general manager one after another, each
approves from their inbox, and the rep reads the outcome on the quote's timeline."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import untranslated
from tests.browser.steps import decide, drag_card, switch_user
from tests.templates.sales.helpers import PASSWORD, Sales, build_org, install, ok

REP, MANAGER, FINANCE, GM = "zhang.wei", "chen.jing", "zhou.min", "sun.li"


def opportunity_in_tech_exchange(sales: Sales) -> tuple[dict[str, Any], dict[str, Any]]:
    """A hospital's opportunity moved (over the API) through 需求确认 to 技术交流."""
    customer = sales.create(REP, "customer", {
        "name": "苏州市立医院", "industry": "hospital", "region": "east", "tier": "key",
        "budget": 800000, "purchase_timeline": "2099-06-30",
        "decision_chain": [{"role": "procurement", "name": "王主任"},
                           {"role": "equipment", "name": "李工"}]})
    deal = sales.create(REP, "opportunity", {
        "name": "ICU 呼吸机采购", "customer": customer["id"], "amount": 600000})
    sales.create(REP, "follow_up", {
        "opportunity": deal["id"], "customer": customer["id"], "channel": "call",
        "talk_tag": "confirm_chain", "summary": "确认采购科与设备科的分工",
        "next_action": "预约设备科现场交流", "next_action_date": "2099-03-20"})
    ok(sales.move(REP, deal, "needs", {"budget_confirmed": 700000}))
    sales.create(REP, "requirement", {
        "customer": customer["id"], "opportunity": deal["id"], "scenario": "delivery",
        "customer_words": "现在的呼吸机坏了要等两周才有人来修", "tried_before": "找过原厂维保"})
    ok(sales.move(REP, deal, "tech_exchange", {"tech_lead_involved": True}))
    return customer, deal


def inbox(page: Page, base: str) -> Any:
    """Open the approvals inbox; its tasks."""
    page.goto(f"{base}/approvals")
    return page.locator("[data-test^=inbox-task-]")


def expect_empty_inbox(page: Page, base: str) -> None:
    tasks = inbox(page, base)
    expect(page.locator(".inbox-page .el-empty")).to_be_visible()  # loaded, and nothing
    expect(tasks).to_have_count(0)


def test_rep_meets_stage_criteria_and_a_low_quote_walks_three_approvers(
        page: Page, live_server: str, client: Any, admin_headers: dict[str, str],
        shots: Any) -> None:
    sales = build_org(client, admin_headers)
    install(client, admin_headers)
    customer, deal = opportunity_in_tech_exchange(sales)
    product = sales.create("admin", "product", {"model": "VX-300", "name": "呼吸机 VX-300",
                                                "list_price": 100000, "cost": 60000})

    # --- the rep drags the opportunity on to 方案报价: refused, with what is missing ------
    switch_user(page, live_server, REP, PASSWORD)
    page.goto(f"{live_server}/apps/sales/opportunity/board/pipeline")
    board = page.get_by_test_id("kanban")
    card = board.get_by_test_id(f"card-{deal['id']}")
    expect(board.get_by_test_id("column-tech_exchange").get_by_test_id(f"card-{deal['id']}")
           ).to_be_visible()
    drag_card(page, deal["id"], "proposal")
    refused = page.get_by_test_id("stage-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("方案报价")
    unmet = refused.get_by_test_id("unmet-condition")
    expect(unmet.filter(has_text="现场勘测")).to_have_count(1)
    expect(unmet.filter(has_text="参数匹配")).to_have_count(1)
    shots(page, "stage-refused")
    assert untranslated(page) == []
    refused.get_by_test_id("stage-refused-ok").click()
    expect(board.get_by_test_id("column-tech_exchange").get_by_test_id(f"card-{deal['id']}")
           ).to_be_visible()
    expect(board.get_by_test_id("column-proposal").locator(".kanban-card")).to_have_count(0)
    assert card.is_visible()
    assert sales.get(REP, "opportunity", deal["id"])["stage"] == "tech_exchange"

    # --- a quote at 80% of list price: saved, it goes to the regional manager first --------
    quote = sales.create(REP, "quote", {
        "customer": customer["id"], "opportunity": deal["id"],
        "discount_reason": "竞品报价低 20%，客户承诺年度框架采购",
        "lines": [{"product": product["id"], "quantity": 1, "unit_price": 80000}]})
    assert quote["price_ratio"] == 0.8 and quote["below_floor"] is True
    url = f"{live_server}/apps/sales/quote/{quote['id']}"
    page.goto(url)
    panel = page.get_by_test_id("approval-panel")
    expect(panel.get_by_test_id("approval-status")).to_contain_text("审批中")
    expect(panel.get_by_test_id("approval-step-regional_manager")).to_have_attribute(
        "data-status", "pending")
    expect(page.get_by_test_id("record-locked")).to_be_visible()
    shots(page, "quote-submitted")

    # --- each approver sees it only on their turn ---------------------------------------
    for who in (FINANCE, GM):
        switch_user(page, live_server, who, PASSWORD)
        expect_empty_inbox(page, live_server)
    for step, who, others, comment in (
            ("区域经理", MANAGER, (FINANCE, GM), "区域经理同意"),
            ("财务主管", FINANCE, (GM,), "毛利可接受"),
            ("总经理", GM, (), "同意")):
        for other in others:  # not yet their turn
            switch_user(page, live_server, other, PASSWORD)
            expect_empty_inbox(page, live_server)
        switch_user(page, live_server, who, PASSWORD)
        task = inbox(page, live_server)
        expect(task).to_have_count(1)
        expect(task).to_contain_text(step)
        expect(task).to_contain_text(quote["code"])
        shots(page, f"inbox-{who}")
        decide(page, task, "approve", comment)
        expect(page.locator("[data-test^=inbox-task-]")).to_have_count(0)
        assert untranslated(page) == []

    # --- the rep reads the outcome on the quote's timeline ------------------------------
    switch_user(page, live_server, REP, PASSWORD)
    page.goto(url)
    expect(page.get_by_test_id("approval-status")).to_contain_text("已通过")
    timeline = page.get_by_test_id("history")
    expect(timeline.get_by_test_id("timeline-approval-complete").first).to_contain_text(
        "审批结束：已通过")
    approvals = timeline.get_by_test_id("timeline-approval-approve")
    expect(approvals).to_have_count(3)
    expect(approvals.nth(0)).to_contain_text("总经理")
    expect(approvals.nth(2)).to_contain_text("区域经理同意")
    # the approval's outcome written back: read as words and coloured tags, not raw values
    written = timeline.get_by_test_id("history-update").first.locator("li")
    expect(written.filter(has_text="可生成PDF")).to_contain_text("否 → 是")
    status = written.filter(has_text="状态")
    expect(status.locator(".el-tag").last).to_have_text("已批准")
    expect(status.locator(".el-tag").last).to_have_class(re.compile(r"el-tag--success"))
    expect(status.locator(".el-tag").first).to_have_class(re.compile(r"el-tag--info"))
    expect(page.get_by_test_id("record-locked")).to_have_count(0)
    shots(page, "outcome-on-timeline")
    assert untranslated(page) == []
