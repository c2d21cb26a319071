"""People: the 90-day onboarding path, coaching for reps below the team, the two-week
achievement alert, points, the weekly audit sample, product alerts, daily reports and
rebates computed every night."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.runtime.records.helpers import PNG
from tests.templates.sales.conftest import SHANGHAI
from tests.templates.sales.helpers import Sales, problems

Move = Callable[[datetime], None]


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def test_a_new_rep_gets_the_90_day_path(sales: Sales, run_jobs: Callable[[], None]) -> None:
    profile = sales.create("chen.jing", "rep_profile", {
        "user": sales.ids["li.na"], "hire_date": "2026-03-02", "mentor": sales.ids["chen.jing"],
        "region": "east"})
    run_jobs()  # the path is laid out by the onboarding automations
    tasks = sales.list("li.na", "task", sort="day")
    assert [(t["day"], t["due_date"]) for t in tasks] == [
        (1, "2026-03-03"), (7, "2026-03-09"), (14, "2026-03-16"), (30, "2026-04-01"),
        (45, "2026-04-16"), (60, "2026-05-01"), (90, "2026-05-31")]
    assert tasks[1]["title"] == "入职第7天：独立完成 1 次需求诊断"
    assert tasks[3]["title"] == "入职第30天：主导 1 次线上演示"
    assert {t["kind"] for t in tasks} == {"onboarding"}
    assert all(t["rep_profile"] == profile["id"] for t in tasks)
    mentor = sales.list("chen.jing", "task", filter={"==": [{"var": "kind"}, "coaching"]})
    assert [t["assignee"] for t in mentor] == [sales.ids["chen.jing"]]
    assert any("90 天成长路径" in b for b in sales.notifications("li.na"))

    # each step is closed with evidence: a recording or the customer's confirmation
    diagnosis = tasks[1]
    refused = sales.patch("li.na", "task", diagnosis, {"status": "done"})
    assert problems(refused) == {"evidence": "required"}
    proof = sales.upload("li.na", PNG, "客户确认截图.png", "image/png")
    done = sales.update("li.na", "task", diagnosis, {"status": "done", "evidence": [proof],
                                                     "result": "完成宁波精密制造需求诊断"})
    assert done["status"] == "done"


def test_points_for_complete_customers_and_approved_cases(sales: Sales) -> None:
    profile = sales.create("chen.jing", "rep_profile", {"user": sales.ids["zhang.wei"],
                                                        "hire_date": "2025-06-01"})
    assert profile["points"] == 0
    customer = sales.customer("zhang.wei", "宁波精密制造")
    sales.update("zhang.wei", "customer", customer, {
        "budget": 300000, "purchase_timeline": "2026-09-30",
        "decision_chain": [{"role": "technical", "name": "周工", "title": "技术部长"}]})
    assert sales.get("chen.jing", "rep_profile", profile["id"])["points"] == 10
    case = sales.create("zhang.wei", "knowledge", {
        "title": "突破技术质疑：用参数匹配报告说服设备科", "kind": "case",
        "scenario": "sterilization",
        "content": "客户质疑灭菌兼容性，我们提供了三家同类医院的参数匹配报告……"})
    response = sales.client.post(sales.url("knowledge", case["id"], "approvals"),
                                 json={"chain": "case_review"}, headers=sales.as_("zhang.wei"))
    assert response.status_code == 201, response.get_json()
    assert sales.get("chen.jing", "rep_profile", profile["id"])["points"] == 10
    sales.decide("chen.jing", comment="好案例，已入库")
    assert sales.get("zhang.wei", "knowledge", case["id"])["status"] == "approved"
    assert sales.get("chen.jing", "rep_profile", profile["id"])["points"] == 60


def test_a_rep_below_the_team_gets_coaching_and_two_low_weeks_raise_an_alert(
        sales: Sales, move: Move) -> None:
    reps = ["zhang.wei", "li.na", "wang.fang", "zhao.lei"]
    for rep in reps:
        sales.create("admin", "rep_profile", {"user": sales.ids[rep], "hire_date": "2025-01-01"})
        sales.create("sun.li", "target", {"rep": sales.ids[rep], "quarter_start": "2026-01-01",
                                          "target_amount": 1300000})  # 100,000 a week
    buyer = sales.customer("zhang.wei", "宁波精密制造")
    visits = {"zhang.wei": (4, 3), "li.na": (4, 3), "wang.fang": (4, 4), "zhao.lei": (4, 1)}
    invite = sales.upload("admin", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n", "邀请.ics", "text/calendar")
    for rep, (total, good) in visits.items():
        for index in range(total):
            data: dict[str, Any] = {"customer": buyer["id"], "visit_date": "2026-03-04"}
            if index < good:
                data.update(appointment_proof=[invite], requirement_link="https://docs.example.cn/r",
                            next_step="演示", next_step_date="2026-03-12")
            sales.create(rep, "visit", data)
    for rep, amount in (("zhang.wei", 120000), ("li.na", 60000), ("wang.fang", 90000),
                        ("zhao.lei", 50000)):
        sales.signed_contract(rep, buyer, amount, "2026-03-05")
    move(at(3, 9, 1, 5))  # Monday: last week's scorecards
    cards = {c["rep"]: c for c in sales.list("admin", "scorecard")}
    assert len(cards) == 4
    low = cards[sales.ids["zhao.lei"]]
    assert low["week_start"] == "2026-03-02" and low["visit_quality"] == 0.25
    assert low["team_visit_quality"] == 0.6875 and low["below_team"] is True
    assert cards[sales.ids["li.na"]]["below_team"] is False  # 0.75 is above 0.8 x 0.6875
    assert low["achievement"] == 0.5 and low["two_weeks_low"] is False
    coaching = sales.list("zhao.lei", "task", filter={"==": [{"var": "kind"}, "coaching"]})
    assert [t["title"] for t in coaching] == ["带教任务包：本周指标低于团队均值 20%"]
    assert any(b.startswith("带教提醒") for b in sales.notifications("liu.yang"))
    assert not [t for t in sales.list("admin", "task", filter={"==": [{"var": "kind"}, "coaching"]})
                if t["assignee"] != sales.ids["zhao.lei"]]

    # another week below 65% of target: the supervisor, HR and the rep hear of it
    sales.signed_contract("zhao.lei", buyer, 40000, "2026-03-11")
    sales.signed_contract("li.na", buyer, 60000, "2026-03-11")
    move(at(3, 16, 1, 5))
    week = {"==": [{"var": "week_start"}, "2026-03-09"]}
    second = {c["rep"]: c for c in sales.list("admin", "scorecard", filter=week)}
    assert second[sales.ids["zhao.lei"]]["two_weeks_low"] is True
    assert second[sales.ids["li.na"]]["two_weeks_low"] is True  # 60% twice
    assert second[sales.ids["zhang.wei"]]["two_weeks_low"] is False
    assert any(b.startswith("预警：团队成员连续 2 周") for b in sales.notifications("liu.yang"))
    assert any("潜力评估建议" in b for b in sales.notifications("ma.li"))
    packs = sales.list("zhao.lei", "task", filter={"==": [{"var": "title"},
                                                          "定制化学习包：连续 2 周达成率低于 65%"]})
    assert len(packs) == 1


def test_the_weekly_audit_samples_five_percent_of_high_value_opportunities(
        sales: Sales, move: Move) -> None:
    buyer = sales.customer("zhang.wei", "宁波精密制造")
    for index in range(30):
        amount = 800000 if index < 25 else 90000
        sales.create("zhang.wei", "opportunity", {"name": f"项目{index}", "customer": buyer["id"],
                                                  "amount": amount})
    move(at(3, 4, 14, 1))  # Wednesday afternoon
    audits = sales.list("he.qing", "audit_review")
    assert len(audits) == 2  # 5% of 25 high-value ones, rounded up
    picked = [sales.get("admin", "opportunity", a["opportunity"]) for a in audits]
    assert all(o["high_value"] for o in picked) and len({o["id"] for o in picked}) == 2
    assert {a["reviewer"] for a in audits} == {sales.ids["he.qing"]}
    finished = sales.update("he.qing", "audit_review", audits[0], {
        "status": "done", "tier_correct": False, "findings": "客户等级应为重点客户"})
    assert finished["status"] == "done"
    move(at(3, 11, 14, 1))
    assert len(sales.list("he.qing", "audit_review")) == 4


def test_the_product_team_hears_of_a_scenario_raised_five_times_in_a_week(
        sales: Sales, move: Move, run_jobs: Callable[[], None]) -> None:
    buyer = sales.create("zhang.wei", "customer", {"name": "苏州市立医院", "industry": "hospital",
                                                   "region": "east", "decision_chain": [
                                                       {"role": "procurement", "name": "王主任"},
                                                       {"role": "clinical", "name": "刘主任"}]})

    def raise_(who: str, words: str, scenario: str = "sterilization") -> dict[str, Any]:
        return sales.create(who, "requirement", {"customer": buyer["id"], "scenario": scenario,
                                                 "customer_words": words})

    raise_("zhang.wei", "上周的器械包灭菌后标识脱落")  # eight days before: not in the week
    move(at(3, 10, 9))
    for index, who in enumerate(["zhang.wei", "li.na", "wang.fang", "zhao.lei"]):
        raise_(who, f"灭菌兼容性问题 {index}")
        raise_(who, "交期太长", "delivery")
    run_jobs()
    assert sales.notifications("wu.hao") == []
    fifth = raise_("li.na", "高温灭菌后包装变形")
    assert fifth["scenario_week_count"] == 5
    run_jobs()
    alerts = sales.notifications("wu.hao")
    assert alerts == ["产品预警：近 7 天已有 5 份需求确认单提到同一业务场景，请评估"]
    raise_("zhang.wei", "又一次灭菌问题")
    run_jobs()
    assert len(sales.notifications("wu.hao")) == 1  # once when the line is crossed


def test_daily_reports_and_rebates_are_computed_every_day(sales: Sales, move: Move) -> None:
    target = sales.create("sun.li", "target", {"rep": sales.ids["zhang.wei"],
                                               "quarter_start": "2026-01-01",
                                               "target_amount": 1000000})
    buyer = sales.customer("zhang.wei", "宁波精密制造")
    sales.signed_contract("zhang.wei", buyer, 200000, "2026-03-02")
    sales.create("zhang.wei", "follow_up", {
        "customer": buyer["id"], "channel": "call", "talk_tag": "commercial_push",
        "next_action": "回款跟进", "next_action_date": "2026-03-06"})
    move(at(3, 3, 9, 1))
    [report] = sales.list("chen.jing", "daily_report")
    assert report["report_date"] == "2026-03-02"
    assert (report["follow_ups"], report["signed_amount"]) == (1, 200000)
    assert any(b.startswith("昨日销售日报已生成") for b in sales.notifications("chen.jing"))
    computed = sales.get("sun.li", "target", target["id"])
    assert computed["computed_on"] == "2026-03-03" and computed["rebate"] == 6000
