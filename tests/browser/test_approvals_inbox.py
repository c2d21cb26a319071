"""A quote at 80% of list price walks through its three approvers in the browser: the rep
submits it (and withdraws once), the regional manager, finance and the general manager
each log in and approve from their inbox or the record page, and the rep reads the
outcome on the quote's timeline; the header bell counts, lists and opens the notices the
approvals send."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from builder.extensions import db
from builder.platform import service
from tests.browser.conftest import login, untranslated
from tests.browser.steps import confirm_box, decide, switch_user
from tests.browser.workflow_app import sales_app
from tests.runtime.records.helpers import create, publish


def test_low_price_quote_through_three_approvers(page: Page, live_server: str, client: Any,
                                                 admin_headers: dict[str, str], tenant: Any,
                                                 make_user: Any, auth_headers: Any,
                                                 shots: Any) -> None:
    manager = make_user(tenant, "manager", roles=["sales"])
    service.create_team(tenant, "east", "华东区", manager=manager)
    db.session.commit()
    rep = make_user(tenant, "rep", roles=["sales"], team="east")
    make_user(tenant, "finance", roles=["finance"])
    make_user(tenant, "gm", roles=["general_manager"])
    publish(client, admin_headers, sales_app())
    quote = create(client, auth_headers(rep), "quote", {
        "name": "一期报价", "list_price": 100000, "price": 80000,
        "lines": [{"product": "控制柜", "quantity": 4, "unit_price": 20000}]}, app="sales")
    url = f"{live_server}/apps/sales/quote/{quote['id']}"

    # --- the rep submits, withdraws, submits again ------------------------------------------
    login(page, live_server, "rep")
    page.goto(url)
    panel = page.get_by_test_id("approval-panel")
    panel.get_by_test_id("submit-approval-low_price").click()
    confirm_box(page, "客户要求八折")
    expect(panel.get_by_test_id("approval-status")).to_contain_text("审批中")
    expect(page.get_by_test_id("record-locked")).to_be_visible()
    expect(page.get_by_test_id("edit-record")).to_have_count(0)
    panel.get_by_test_id("withdraw-approval").click()
    confirm_box(page)
    expect(panel.get_by_test_id("approval-status")).to_contain_text("已撤回")
    panel.get_by_test_id("submit-approval-low_price").click()
    confirm_box(page, "客户要求八折，已确认")
    expect(panel.get_by_test_id("approval-status")).to_contain_text("审批中")
    expect(panel.get_by_test_id("approval-step-manager")).to_have_attribute("data-status",
                                                                           "pending")
    shots(page, "submitted")

    # --- the regional manager: bell, inbox, approve ----------------------------------------
    switch_user(page, live_server, "manager")
    # one notice per submission (the withdrawn one too), one task waiting
    expect(page.get_by_test_id("notification-count")).to_contain_text("2")
    expect(page.get_by_test_id("nav-approvals-count")).to_contain_text("1")
    page.get_by_test_id("notification-bell").click()
    items = page.get_by_test_id("notification-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("待审批：一期报价")
    shots(page, "bell")
    items.first.click()
    page.wait_for_url(re.compile(rf"/apps/sales/quote/{quote['id']}$"))
    expect(page.get_by_test_id("notification-count")).to_contain_text("1")
    page.get_by_test_id("nav-approvals").click()
    task = page.locator("[data-test^=inbox-task-]")
    expect(task).to_have_count(1)
    expect(task).to_contain_text("直属上级")
    expect(task).to_contain_text("一期报价")
    shots(page, "inbox")
    decide(page, task, "approve", "同意，注意回款")
    expect(page.locator("[data-test^=inbox-task-]")).to_have_count(0)
    assert untranslated(page) == []

    # --- finance approves from the inbox ----------------------------------------------------
    switch_user(page, live_server, "finance")
    page.goto(f"{live_server}/approvals")
    task = page.locator("[data-test^=inbox-task-]")
    expect(task).to_contain_text("财务")
    decide(page, task, "approve", "毛利可接受")
    expect(page.locator("[data-test^=inbox-task-]")).to_have_count(0)

    # --- the general manager approves on the record page ------------------------------------
    switch_user(page, live_server, "gm")
    page.goto(url)
    mine = page.get_by_test_id("my-approval-task")
    expect(mine).to_be_visible()
    decide(page, mine, "approve", "同意")
    expect(page.get_by_test_id("approval-status")).to_contain_text("已通过")

    # --- the rep reads the outcome on the timeline ------------------------------------------
    switch_user(page, live_server, "rep")
    page.goto(url)
    expect(page.get_by_test_id("approval-status")).to_contain_text("低价审批 · 已通过")
    timeline = page.get_by_test_id("history")
    expect(timeline.get_by_test_id("timeline-approval-complete").first).to_contain_text(
        "「低价审批」审批结束：已通过")
    approvals = timeline.get_by_test_id("timeline-approval-approve")
    expect(approvals).to_have_count(3)
    expect(approvals.nth(0)).to_contain_text("gm 在「总经理」同意")
    expect(approvals.nth(2)).to_contain_text("同意，注意回款")
    expect(timeline.get_by_test_id("timeline-approval-withdraw")).to_have_count(1)
    expect(page.get_by_test_id("record-fields").locator("[data-field=approval_status]")
           ).to_contain_text("已批准")
    expect(page.get_by_test_id("edit-record")).to_be_visible()
    page.get_by_test_id("notification-bell").click()
    expect(page.get_by_test_id("notification-item").first).to_contain_text("一期报价")
    shots(page, "outcome-on-timeline")
    assert untranslated(page) == []
