"""A dashboard in the browser: ECharts is downloaded only when a dashboard opens; the
funnel renders, and clicking a stage (on the chart or in its table), a number or a cell of
the hour × weekday punchcard lists exactly the records behind it."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, untranslated
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import create, publish

STAGES = [("lead", "初步接洽"), ("needs", "需求确认"), ("proposal", "方案报价"),
          ("won", "赢单"), ("lost", "输单")]


def funnel_app() -> dict[str, Any]:
    opportunity = entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name", required=True),
        field("stage", "select", "阶段", "Stage", options=[option(k, zh) for k, zh in STAGES]),
        field("region", "select", "区域", "Region",
              options=[option("east", "华东", "East"), option("north", "华北", "North")]),
        field("amount", "money", "金额", "Amount")], title_field="name")
    count = {"entity": "opportunity", "aggregate": "count", "time_field": "created_at",
             "period": "month"}
    return minimal_app(
        opportunity, key="sales", title=title("销售管理", "Sales"),
        stage_flows=[{"key": "funnel", "entity": "opportunity", "field": "stage", "stages": [
            {"key": "lead"}, {"key": "needs"}, {"key": "proposal"},
            {"key": "won", "terminal": "won"}, {"key": "lost", "terminal": "lost"}]}],
        metrics=[{"key": "opp_count", "title": title("商机数", "Opportunities"), **count},
                 {"key": "amount_sum", "title": title("商机金额", "Amount"),
                  "aggregate": "sum", "field": "amount", "entity": "opportunity",
                  "time_field": "created_at", "period": "month"}],
        dashboards=[{"key": "sales", "title": title("销售看板", "Sales dashboard"), "widgets": [
            {"key": "count", "type": "number", "title": title("本月商机", "This month"),
             "metrics": ["opp_count"], "layout": {"x": 0, "y": 0, "w": 4, "h": 1}},
            {"key": "by_region", "type": "pie", "title": title("区域分布", "By region"),
             "metrics": ["opp_count"], "group_by": "region", "options": {"window": "all"},
             "layout": {"x": 4, "y": 0, "w": 8, "h": 1}},
            {"key": "funnel", "type": "funnel", "title": title("销售漏斗", "Funnel"),
             "metrics": ["opp_count"], "options": {"flow": "funnel", "window": "all"},
             "layout": {"x": 0, "y": 1, "w": 6, "h": 2}},
            {"key": "monthly", "type": "bar", "title": title("每月金额", "Monthly amount"),
             "metrics": ["amount_sum"], "options": {"periods": 6},
             "layout": {"x": 6, "y": 1, "w": 6, "h": 2}},
            {"key": "ranking", "type": "leaderboard", "title": title("排行", "Ranking"),
             "metrics": ["amount_sum", "opp_count"], "layout": {"x": 0, "y": 3, "w": 12, "h": 1}},
            {"key": "when", "type": "punchcard", "title": title("何时新增", "When added"),
             "metrics": ["opp_count"], "options": {"window": "all"},
             "layout": {"x": 0, "y": 4, "w": 12, "h": 2}},
        ]}])


def test_funnel_and_numbers_drill_to_their_records(page: Page, live_server: str, client: Any,
                                                    admin_headers: dict[str, str],
                                                    shots: Any) -> None:
    publish(client, admin_headers, funnel_app())
    where = {"lead": ["甲", "乙", "丙"], "needs": ["丁", "戊"], "proposal": ["己"]}
    for stage, names in where.items():
        for name in names:
            region = "east" if name in "甲丁己" else "north"
            record = create(client, admin_headers, "opportunity",
                            {"name": f"商机{name}", "region": region, "amount": 10000},
                            app="sales")
            for step in ("needs", "proposal")[:["lead", "needs", "proposal"].index(stage)]:
                moved = client.post(f"/api/apps/sales/opportunity/records/{record['id']}/"
                                    "transition", headers=admin_headers,
                                    json={"to": step, "version": record["version"]})
                assert moved.status_code == 200, moved.get_json()
                record = moved.get_json()

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, live_server, "admin")
    page.goto(f"{live_server}/apps/sales/opportunity")
    expect(page.get_by_test_id("list-total")).to_contain_text("6")
    assert not [url for url in requested if "/echarts" in url]

    page.get_by_test_id("nav-dashboard-sales").click()
    funnel = page.get_by_test_id("widget-funnel")
    expect(funnel.locator("canvas")).to_have_count(1)
    assert [url for url in requested if "/echarts" in url]
    table = funnel.get_by_test_id("funnel-table")
    expect(table.get_by_test_id("funnel-stage-lead")).to_contain_text("初步接洽")
    expect(table.get_by_test_id("funnel-stage-needs").get_by_test_id("funnel-count")
           ).to_have_text("2")
    page.wait_for_timeout(600)  # let the chart finish its entry animation for the picture
    shots(page, "dashboard")

    # a stage of the funnel chart itself: the top layer is 初步接洽
    chart = funnel.get_by_test_id("chart")
    box = chart.bounding_box()
    assert box is not None
    layers = 4  # lead, needs, proposal, won (lost is counted apart)
    chart.click(position={"x": box["width"] / 2, "y": 8 + (box["height"] - 16) / layers / 2})
    drawer = page.get_by_test_id("drill-drawer")
    expect(drawer.get_by_test_id("drill-total")).to_contain_text("3")
    expect(drawer.locator(".drill-row")).to_have_count(3)
    for name in where["lead"]:
        expect(drawer.get_by_test_id("drill-records")).to_contain_text(f"商机{name}")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    # the same through the stage table: exactly the two records at 需求确认
    table.get_by_test_id("funnel-stage-needs").get_by_test_id("funnel-count").click()
    expect(drawer.get_by_test_id("drill-total")).to_contain_text("2")
    rows = drawer.locator(".drill-row")
    expect(rows).to_have_count(2)
    assert sorted(" ".join(text.split()) for text in rows.all_inner_texts()) == [
        "商机丁 需求确认 华东 CNY 10,000.00", "商机戊 需求确认 华北 CNY 10,000.00"]
    shots(page, "drill-stage")
    rows.first.click()
    expect(page.get_by_test_id("record-title")).to_have_text("商机戊")

    page.go_back()
    page.get_by_test_id("widget-count").get_by_test_id("number-value").click()
    expect(page.get_by_test_id("drill-drawer").get_by_test_id("drill-total")).to_contain_text("6")
    assert untranslated(page) == []

    # the punchcard: every record was added in the same hour, one dot of six
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("drill-drawer")).to_be_hidden()
    punchcard = page.get_by_test_id("widget-when").get_by_test_id("chart")
    punchcard.scroll_into_view_if_needed()
    expect(punchcard.locator("canvas")).to_have_count(1)
    page.wait_for_timeout(600)  # the entry animation, as above
    dot = punchcard.evaluate("""el => {
        const chart = el.__chart
        const [x, y, value] = chart.getOption().series[0].data[0].value
        return [...chart.convertToPixel({ seriesIndex: 0 }, [x, y]), value]
    }""")
    assert dot[2] == 6
    punchcard.click(position={"x": dot[0], "y": dot[1]})
    expect(page.get_by_test_id("drill-drawer").get_by_test_id("drill-total")).to_contain_text("6")
    expect(page.get_by_test_id("drill-drawer").locator(".drill-row")).to_have_count(6)
    shots(page, "drill-punchcard")
    assert untranslated(page) == []
