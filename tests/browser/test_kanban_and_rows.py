"""Slice of the sales work in the browser: a rep drags an opportunity along the funnel
board, sees every unmet condition when a move is refused, fixes them on the record page
(a decision maker added in place, the summary filled in), moves on with the stage bar and
reads it on the timeline; then edits quote lines inline with a server error in its row."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated
from tests.browser.steps import drag_card
from tests.browser.workflow_app import sales_app
from tests.runtime.records.helpers import create, publish


def test_kanban_refusal_timeline_and_inline_rows(page: Page, live_server: str, client: Any,
                                                  admin_headers: dict[str, str],
                                                  make_user: Any, tenant: Any, browser: Any,
                                                  shots: Any) -> None:
    publish(client, admin_headers, sales_app())
    make_user(tenant, "rep", roles=["sales"])
    customer = create(client, admin_headers, "customer", {"name": "华东制造"}, app="sales")
    deal = create(client, admin_headers, "opportunity",
                  {"name": "智能工厂项目", "customer": customer["id"], "amount": 800000},
                  app="sales")

    login(page, live_server, "rep")
    page.goto(f"{live_server}/apps/sales")
    page.get_by_test_id("nav-board-pipeline").click()
    board = page.get_by_test_id("kanban")
    expect(board.get_by_test_id("column-lead").get_by_test_id(f"card-{deal['id']}")).to_be_visible()
    expect(board.get_by_test_id(f"card-{deal['id']}")).to_contain_text("华东制造")

    # --- lead → needs: allowed (the customer is set) ---------------------------------------
    drag_card(page, deal["id"], "needs")
    expect(page.locator(".el-message--success")).to_contain_text("需求确认")
    expect(board.get_by_test_id("column-needs").get_by_test_id(f"card-{deal['id']}")).to_be_visible()
    expect(board.get_by_test_id("column-needs").get_by_test_id("column-count")).to_have_text("1")

    # --- needs → proposal: refused, with every unmet condition ----------------------------
    drag_card(page, deal["id"], "proposal")
    refused = page.get_by_test_id("stage-refused")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("无法进入「方案报价」")
    unmet = refused.get_by_test_id("unmet-condition")
    expect(unmet).to_have_count(2)
    expect(unmet.nth(0)).to_contain_text("需求摘要")
    expect(unmet.nth(1)).to_contain_text("决策人")
    shots(page, "refused")
    refused.get_by_test_id("stage-refused-ok").click()
    expect(board.get_by_test_id("column-needs").get_by_test_id(f"card-{deal['id']}")).to_be_visible()
    expect(board.get_by_test_id("column-proposal").locator(".kanban-card")).to_have_count(0)
    assert untranslated(page) == []

    # --- the record page: a decision maker added in place, the summary filled in ---------
    board.get_by_test_id(f"card-{deal['id']}").click()
    expect(page.get_by_test_id("record-title")).to_have_text("智能工厂项目")
    page.get_by_test_id("related-add-decision_member").click()
    dialog = page.get_by_test_id("related-dialog")
    dialog.locator("[data-field=name] input").fill("李总")
    dialog.locator("[data-field=role] input").fill("技术副总")
    dialog.get_by_test_id("related-save").click()
    expect(page.get_by_test_id("related-decision_member")).to_contain_text("李总")
    page.get_by_test_id("edit-record").click()
    page.locator("[data-field=needs_summary] textarea").fill("产线数字化改造，三期")
    page.get_by_test_id("submit-record").click()
    expect(page.get_by_test_id("record-title")).to_have_text("智能工厂项目")
    expect(page.locator("main")).to_contain_text("产线数字化改造，三期")  # saved and shown

    page.get_by_test_id("stage-bar-funnel").get_by_test_id("stage-proposal").click()
    expect(page.get_by_test_id("stage-proposal")).to_have_attribute("aria-current", "step",
                                                                     timeout=15000)
    timeline = page.get_by_test_id("history")
    expect(timeline.get_by_test_id("timeline-stage").first).to_contain_text(
        "从「需求确认」推进到「方案报价」")
    expect(timeline.get_by_test_id("timeline-stage")).to_have_count(3)
    expect(timeline.get_by_test_id("timeline-related")).to_contain_text("rep 添加了决策人「李总」")
    shots(page, "record-timeline")
    assert untranslated(page) == []

    # --- a quote with lines edited inline; a bad quantity is refused in its row -------------
    page.goto(f"{live_server}/apps/sales/quote/new?opportunity={deal['id']}")
    form = page.get_by_test_id("record-form")
    form.locator("[data-field=name] input").fill("一期报价")
    form.locator("[data-field=list_price] input").fill("1000000")
    form.locator("[data-field=price] input").fill("950000")
    rows = form.get_by_test_id("subtable-lines")
    for index, (product, quantity, price) in enumerate((("控制柜", "0", "20000"),
                                                        ("传感器", "40", "500"))):
        rows.get_by_test_id("subtable-add").click()
        cell = rows.locator(f"[data-row='{index}']")
        cell.and_(page.locator("[data-cell=product]")).locator("input").fill(product)
        cell.and_(page.locator("[data-cell=quantity]")).locator("input").fill(quantity)
        cell.and_(page.locator("[data-cell=unit_price]")).locator("input").fill(price)
    expect(rows.locator("[data-row='1'][data-cell=line_total]")).to_contain_text("20,000.00")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/records")) as answer:
        page.get_by_test_id("submit-record").click()
    assert answer.value.status == 422
    error = rows.locator("[data-row='0'][data-cell=quantity] .cell-error")
    expect(error).to_contain_text("1")
    shots(page, "row-error")
    rows.locator("[data-row='0'][data-cell=quantity] input").fill("2")
    page.get_by_test_id("submit-record").click()
    expect(page.get_by_test_id("record-title")).to_have_text("一期报价")
    lines = page.get_by_test_id("subtable-view-lines")
    expect(lines.locator("tbody tr")).to_have_count(2)
    expect(lines).to_contain_text("控制柜")
    shots(page, "quote")
    assert untranslated(page) == []

    # --- on a phone the card's menu moves it, with the same checks ----------------------------
    other = create(client, admin_headers, "opportunity", {"name": "仓储项目"}, app="sales")
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740},
                                is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    try:
        login(mobile, live_server, "rep")
        mobile.goto(f"{live_server}/apps/sales/opportunity/board/pipeline")
        card = mobile.get_by_test_id(f"card-{other['id']}")
        card.get_by_test_id("card-move").click()
        mobile.locator(".el-dropdown-menu:visible").get_by_text("移到「需求确认」").click()
        refused = mobile.get_by_test_id("stage-refused")
        expect(refused.get_by_test_id("unmet-condition")).to_have_count(1)  # no customer
        expect(refused).to_contain_text("客户")
        shots(mobile, "phone-refused")
        refused.get_by_test_id("stage-refused-ok").click()
        expect(mobile.get_by_test_id("column-lead").get_by_test_id(f"card-{other['id']}")
               ).to_be_visible()
    finally:
        phone.close()
