"""A rep pages, filters (with the condition builder) and sorts a list; a manager rolls an
app back to an earlier version."""

from __future__ import annotations

import copy
import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login
from tests.browser.test_designer_to_form import choose
from tests.definitions import entity, field, minimal_app, option
from tests.runtime.records.helpers import publish


def deals_app() -> dict[str, Any]:
    return minimal_app(entity("deal", "交易", "Deal", [
        field("name", "text", "名称", "Name", required=True),
        field("level", "select", "级别", "Level",
              options=[option("a", "重点", "Key"), option("b", "普通", "Regular")]),
        field("amount", "number", "金额", "Amount"),
    ], title_field="name"))


def test_list_paging_filter_and_sort(page: Page, live_server: str, client: Any,
                                     admin_headers: dict[str, str], shots: Any) -> None:
    publish(client, admin_headers, deals_app())
    rows = [{"name": f"交易{n:02d}", "level": "a" if n % 3 == 0 else "b", "amount": n * 10}
            for n in range(1, 26)]
    response = client.post("/api/apps/demo/deal/records/bulk", json={"rows": rows},
                           headers=admin_headers)
    assert response.status_code == 201

    login(page, live_server, "admin")
    page.goto(f"{live_server}/apps/demo/deal")
    table = page.get_by_test_id("records-table")
    expect(page.get_by_test_id("list-total")).to_contain_text("25")
    expect(table.locator("tbody tr")).to_have_count(20)
    page.get_by_test_id("next-page").click()
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("next-page")).to_be_disabled()
    page.get_by_test_id("previous-page").click()
    expect(table.locator("tbody tr")).to_have_count(20)

    page.get_by_test_id("open-filter").click()
    builder = page.get_by_test_id("list-filter")
    builder.get_by_test_id("condition-add").click()
    choose(page, builder.get_by_test_id("condition-field"), "级别")
    choose(page, builder.get_by_test_id("condition-value"), "重点")
    builder.get_by_test_id("condition-add").click()
    choose(page, builder.get_by_test_id("condition-field").nth(1), "金额")
    choose(page, builder.get_by_test_id("condition-op").nth(1), "大于")
    builder.get_by_test_id("condition-value").nth(1).locator("input").fill("100")
    shots(page, "filter")
    page.get_by_test_id("apply-filter").click()
    expect(page.get_by_test_id("list-total")).to_contain_text("共 5 条")  # 12, 15, 18, 21, 24
    expect(table.locator("tbody tr")).to_have_count(5)

    table.locator("th", has_text="金额").click()  # ascending
    expect(table.locator("tbody tr").first).to_contain_text("交易12")
    table.locator("th", has_text="金额").click()  # descending
    expect(table.locator("tbody tr").first).to_contain_text("交易24")
    shots(page, "filtered-sorted")

    # the list as shown becomes a saved view, chosen again after the filter was cleared
    page.get_by_test_id("save-view").click()
    box = page.locator(".el-message-box")
    box.locator("input").fill("重点大单")
    box.locator(".el-message-box__btns .el-button--primary").click()
    page.get_by_test_id("open-filter").click()
    page.get_by_test_id("clear-filter").click()
    expect(page.get_by_test_id("list-total")).to_contain_text("25")
    choose(page, page.get_by_test_id("view-choice"), "重点大单")
    expect(page.get_by_test_id("list-total")).to_contain_text("共 5 条")
    expect(table.locator("tbody tr").first).to_contain_text("交易24")
    table.locator("tbody tr").first.click()
    expect(page.get_by_test_id("record-title")).to_have_text("交易24")


def test_rollback_to_an_earlier_version(page: Page, live_server: str, client: Any,
                                        admin_headers: dict[str, str], shots: Any) -> None:
    first = publish(client, admin_headers, deals_app())
    second = copy.deepcopy(first)
    second["entities"][0]["fields"].append(field("region", "text", "区域", "Region"))
    assert client.put("/api/apps/demo/draft", json={"definition": second},
                      headers=admin_headers).status_code == 200
    assert client.post("/api/apps/demo/publish", headers=admin_headers).status_code == 200

    login(page, live_server, "admin")
    page.goto(f"{live_server}/designer/demo")
    expect(page.get_by_test_id("field-card-region")).to_be_visible()
    page.get_by_test_id("open-versions").click()
    expect(page.get_by_test_id("version-2")).to_contain_text("区域")
    page.get_by_test_id("rollback-1").click()
    page.locator(".el-message-box").get_by_role("button", name=re.compile("回滚")).click()
    expect(page.locator(".el-message--success", has_text="v3")).to_be_visible()
    expect(page.get_by_test_id("field-card-region")).to_have_count(0)
    shots(page, "rolled-back")
    live = client.get("/api/apps/demo", headers=admin_headers).get_json()
    assert live["live_version"] == 3
    assert [f["key"] for f in live["definition"]["entities"][0]["fields"]] == [
        "name", "level", "amount"]
