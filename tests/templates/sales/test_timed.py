"""What happens with time: the 2-hour escalation, dormancy, key-account alerts, hesitation
deadlines, quote risk and the morning's TOP-5 stuck list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from tests.templates.sales.conftest import SHANGHAI, START
from tests.templates.sales.helpers import Sales, ok
from tests.templates.sales.test_leads import HOT, endpoints, submit_form

Move = Callable[[datetime], None]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def test_a_lead_not_opened_within_two_hours_is_flagged_and_escalated(
        sales: Sales, move: Move) -> None:
    form = endpoints(sales)["website"]
    for index, name in enumerate(("王主任", "周科长")):
        data = dict(HOT, name=name, phone=f"1380000222{index}")
        assert submit_form(sales, form, data, ip=f"203.0.113.{index + 1}").status_code == 201
    ignored, opened = (sales.list("admin", "lead", sort="id"))
    owner = next(u for u, i in sales.ids.items() if i == ignored["owner"])
    other = next(u for u, i in sales.ids.items() if i == opened["owner"])
    sla = ok(sales.client.get(sales.url("lead", ignored["id"], "sla"), headers=sales.admin))
    assert sla["items"][0]["policy"] == "first_response"

    move(START + timedelta(minutes=40))
    sales.get(other, "lead", opened["id"])  # its owner opens it in time
    move(START + timedelta(hours=1, minutes=59))
    assert sales.get("admin", "lead", ignored["id"])["red_flag"] is False
    move(START + timedelta(hours=2, minutes=1))
    flagged = sales.get("admin", "lead", ignored["id"])
    assert flagged["red_flag"] is True and flagged["escalated"] is True
    assert sales.get("admin", "lead", opened["id"])["red_flag"] is False
    assert any("超过 2 小时仍未查看" in body for body in sales.notifications(owner))
    escalations = [b for b in sales.notifications("chen.jing") if b.startswith("升级")]
    assert len(escalations) == 1 and "王主任" in escalations[0]
    board = sales.list("chen.jing", "lead", filter={"==": [{"var": "red_flag"}, True]})
    assert [lead["id"] for lead in board] == [ignored["id"]]

    # still not opened after 4 hours: it goes to another rep of the pool
    move(START + timedelta(hours=4, minutes=1))
    moved = sales.get("admin", "lead", ignored["id"])
    assert moved["owner"] not in (None, ignored["owner"])


def test_quiet_customers_are_woken_up_and_key_accounts_alerted(sales: Sales, move: Move) -> None:
    quiet = sales.customer("zhang.wei", "宁波精密制造")
    key = sales.customer("zhang.wei", "上海汽配集团", tier="key")
    busy = sales.customer("li.na", "杭州电力设备", "energy")
    move(at(8, 9))  # six days: nothing yet
    assert not [b for b in sales.notifications("zhang.wei") if b.startswith("预警")]
    move(at(10, 9))  # seven days without contact: the key account raises an alert
    alerts = [b for b in sales.notifications("zhang.wei") if b.startswith("预警")]
    assert alerts == ["预警：重点客户「上海汽配集团」已连续 7 天未联系"]
    assert "预警：重点客户「上海汽配集团」已连续 7 天未联系" in sales.notifications("chen.jing")
    sales.create("zhang.wei", "follow_up", {
        "customer": key["id"], "channel": "visit", "talk_tag": "relationship",
        "next_action": "季度回访", "next_action_date": "2026-04-10"})

    move(at(26, 9))
    sales.create("li.na", "follow_up", {
        "customer": busy["id"], "channel": "call", "talk_tag": "needs_discovery",
        "next_action": "发送方案", "next_action_date": "2026-04-01"})
    move(datetime(2026, 4, 17, 9, 0, tzinfo=SHANGHAI))  # 46 days after they were entered
    tasks = sales.list("admin", "task", filter={"==": [{"var": "kind"}, "wake_up"]})
    assert [t["customer"] for t in tasks] == [quiet["id"]]
    assert tasks[0]["assignee"] == sales.ids["zhang.wei"] and tasks[0]["status"] == "open"
    assert tasks[0]["title"] == "客户唤醒：宁波精密制造"
    assert any(b.startswith("抄送：客户「宁波精密制造」已 45 天无互动")
               for b in sales.notifications("chen.jing"))
    move(datetime(2026, 4, 18, 9, 0, tzinfo=SHANGHAI))  # once per dormant spell
    assert len(sales.list("admin", "task", filter={"==": [{"var": "kind"}, "wake_up"]})) == 1


def test_a_missed_next_touch_lowers_the_customers_priority(sales: Sales, move: Move) -> None:
    customer = sales.customer("zhang.wei", "宁波精密制造", priority="high")
    kept = sales.customer("zhang.wei", "苏州模具", priority="high")
    for record in (customer, kept):
        sales.update("zhang.wei", "customer", record, {
            "progress": "watching", "watching_reason": "comparing_vendors",
            "next_touch_date": "2026-03-05"})
    sales.create("zhang.wei", "follow_up", {
        "customer": kept["id"], "channel": "call", "talk_tag": "objection_competitor",
        "contact_date": "2026-03-05", "next_action": "发送对比表",
        "next_action_date": "2026-03-12"})
    move(at(5, 17))
    assert sales.get("zhang.wei", "customer", customer["id"])["priority"] == "high"
    move(at(5, 18, 1))
    assert sales.get("zhang.wei", "customer", customer["id"])["priority"] == "normal"
    assert sales.get("zhang.wei", "customer", kept["id"])["priority"] == "high"
    assert any("优先级已自动下调" in b for b in sales.notifications("zhang.wei"))


def test_a_quote_without_feedback_for_five_working_days_raises_a_risk(
        sales: Sales, move: Move) -> None:
    product = sales.create("admin", "product", {"model": "PM-12", "name": "监护仪",
                                                "list_price": 20000})
    customer = sales.customer("zhang.wei", "宁波精密制造")
    quiet, answered = (sales.create("zhang.wei", "quote", {
        "customer": customer["id"], "status": "sent",
        "lines": [{"product": product["id"], "quantity": 1, "unit_price": 19500}]})
        for _ in range(2))
    move(at(4, 10))
    sales.update("zhang.wei", "quote", answered, {"feedback_date": "2026-03-04",
                                                  "feedback": "预算内，等领导签字"})
    move(at(6, 9, 30))  # Friday: four working days
    assert sales.get("zhang.wei", "quote", quiet["id"])["risk_flag"] is False
    move(at(9, 9, 30))  # Monday to Monday: five working days
    assert sales.get("zhang.wei", "quote", quiet["id"])["risk_flag"] is True
    assert sales.get("zhang.wei", "quote", answered["id"])["risk_flag"] is False
    warnings = [b for b in sales.notifications("chen.jing") if b.startswith("风险预警")]
    assert warnings == [f"风险预警：报价单 {quiet['code']} 已 5 个工作日无客户反馈"]


def test_the_daily_top_five_stuck_list(sales: Sales, move: Move) -> None:
    received = [at(1, 8 + i) for i in range(7)]  # the day before, an hour apart
    leads = []
    for index, moment in enumerate(received):
        leads.append(sales.create("admin", "lead", {
            "name": f"线索{index + 1}", "company": f"公司{index + 1}", "region": "east",
            "message": "请报价", "visits_30d": 3, "page_seconds": 150,
            "received_at": moment.isoformat()}))
    # the two oldest were followed up this morning: no longer the most stuck
    for lead in leads[:2]:
        owner = next(u for u, i in sales.ids.items() if i == lead["owner"])
        sales.create(owner, "follow_up", {"lead": lead["id"], "channel": "call",
                                         "talk_tag": "needs_discovery", "next_action": "发资料",
                                         "next_action_date": "2026-03-03"})
    sales.update("admin", "lead", leads[6], {"status": "invalid"})
    move(at(3, 8, 30))
    items = sales.list("chen.jing", "stuck_item", sort="rank")
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5]
    assert [i["lead"] for i in items] == [lead["id"] for lead in leads[2:6]] + [leads[0]["id"]]
    first = items[0]
    assert first["list_date"] == "2026-03-03" and first["idle_hours"] == 46.5  # since Sunday 10:00
    assert first["last_actor"] is not None
    assert first["suggested_action"] == "立即电话首呼，确认需求与预算"
    move(at(3, 8, 36))
    assert any(b.startswith("今日 TOP5 断点清单") for b in sales.notifications("chen.jing"))
    move(at(4, 8, 30))
    assert len(sales.list("admin", "stuck_item")) == 10
