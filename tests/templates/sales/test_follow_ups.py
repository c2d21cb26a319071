"""Traced follow-ups, high-quality visits, requirement confirmation and 客户还在观望."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.records.helpers import PNG
from tests.templates.sales.helpers import Sales, messages, ok, problems


@pytest.fixture
def customer(sales: Sales) -> dict[str, Any]:
    return sales.create("zhang.wei", "customer", {
        "name": "宁波精密制造", "industry": "manufacturing", "region": "east", "tier": "growth"})


def test_a_follow_up_is_refused_without_a_tag_and_a_dated_next_action(
        sales: Sales, customer: dict[str, Any]) -> None:
    refused = sales.post("zhang.wei", "follow_up", {"customer": customer["id"], "channel": "call",
                                                    "summary": "聊了聊价格"})
    assert problems(refused) == {"talk_tag": "required", "next_action": "required",
                                 "next_action_date": "required"}
    assert messages(refused)["talk_tag"]
    refused = sales.post("zhang.wei", "follow_up", {
        "customer": customer["id"], "channel": "wechat", "talk_tag": "no_such_tag",
        "next_action": "发送报价", "next_action_date": "2099-01-05"})
    assert set(problems(refused)) == {"talk_tag"}
    done = sales.create("zhang.wei", "follow_up", {
        "customer": customer["id"], "channel": "wechat", "talk_tag": "objection_price",
        "summary": "客户说等我们比完价再说", "next_action": "发送同类客户案例与分期方案",
        "next_action_date": "2099-01-05"})
    assert done["entered_same_day"] is True and done["overdue"] is False
    assert sales.get("zhang.wei", "customer", customer["id"])["last_contact_date"] == \
        done["contact_date"]

    # a planned call is a task: it cannot be closed until the tag and next step are given
    task = sales.create("zhang.wei", "follow_up", {"customer": customer["id"], "channel": "call",
                                                   "status": "open"})
    refused = sales.patch("zhang.wei", "follow_up", task, {"status": "done"})
    assert problems(refused) == {"talk_tag": "required", "next_action": "required",
                                 "next_action_date": "required"}
    closed = sales.update("zhang.wei", "follow_up", task, {
        "status": "done", "talk_tag": "confirm_chain", "next_action": "拜访设备科",
        "next_action_date": "2099-01-09"})
    assert closed["status"] == "done"
    refused = sales.post("zhang.wei", "follow_up", {
        "customer": customer["id"], "channel": "call", "talk_tag": "confirm_chain",
        "next_action": "回访", "contact_date": "2026-03-10", "next_action_date": "2026-03-01"})
    assert problems(refused) == {"next_action_date": "next_action_ahead"}
    refused = sales.post("zhang.wei", "follow_up", {"channel": "call", "status": "open"})
    assert problems(refused) == {"customer": "about_something"}


def test_a_hesitating_customer_needs_a_reason_from_the_list_and_a_next_touch(
        sales: Sales, customer: dict[str, Any]) -> None:
    refused = sales.patch("zhang.wei", "customer", customer, {"progress": "watching"})
    assert problems(refused) == {"watching_reason": "required", "next_touch_date": "required"}
    refused = sales.patch("zhang.wei", "customer", customer, {
        "progress": "watching", "watching_reason": "客户自己也说不清",
        "next_touch_date": "2099-04-01"})
    assert set(problems(refused)) == {"watching_reason"}
    watching = sales.update("zhang.wei", "customer", customer, {
        "progress": "watching", "watching_reason": "budget_approval",
        "next_touch_date": "2099-04-01"})
    assert watching["watching_reason"] == "budget_approval"
    listed = sales.list("zhang.wei", "customer", filter={"==": [{"var": "progress"}, "watching"]})
    assert [c["id"] for c in listed] == [customer["id"]]
    # the reason only exists while the customer hesitates
    back = sales.update("zhang.wei", "customer", watching, {"progress": "advancing"})
    assert back["watching_reason"] == "budget_approval"
    refused = sales.patch("zhang.wei", "customer", back, {"watching_reason": "tech_lead_away"})
    assert problems(refused) == {"watching_reason": "hidden"}


def test_a_visit_is_high_quality_only_with_the_three_proofs(
        sales: Sales, customer: dict[str, Any]) -> None:
    invite = sales.upload("zhang.wei", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n", "邀请.ics",
                          "text/calendar")
    scan = sales.upload("zhang.wei", PNG, "需求签字.png", "image/png")
    base = {"customer": customer["id"], "visit_date": "2026-03-05", "purpose": "new_project"}
    routine = sales.create("zhang.wei", "visit", base)
    assert routine["high_quality"] is False
    partial = sales.create("zhang.wei", "visit", dict(
        base, appointment_proof=[invite], requirement_doc=[scan], next_step="技术交流"))
    assert partial["high_quality"] is False  # the next step has no date
    full = sales.update("zhang.wei", "visit", partial, {"next_step_date": "2026-03-12"})
    assert full["high_quality"] is True
    # photos taken on the visit carry the time and place they were taken
    snapshot = sales.photo("zhang.wei", "宁波精密制造 3号车间", 29.8683, 121.5440)
    full = sales.update("zhang.wei", "visit", full, {"photos": [snapshot]})
    assert full["photos"][0]["id"] == snapshot
    plain = sales.upload("zhang.wei", PNG, "随手拍.png", "image/png")
    refused = sales.patch("zhang.wei", "visit", full, {"photos": [snapshot, plain]})
    assert problems(refused) == {"photos[1]": "not_stamped"}
    linked = sales.create("zhang.wei", "visit", dict(
        base, appointment_proof=[invite], requirement_link="https://docs.example.cn/req/88",
        next_step="演示", next_step_date="2026-03-20"))
    assert linked["high_quality"] is True


def test_the_customers_own_words_cannot_be_edited_after_saving(
        sales: Sales, customer: dict[str, Any]) -> None:
    refused = sales.post("zhang.wei", "requirement", {"customer": customer["id"],
                                                      "scenario": "cost"})
    assert problems(refused) == {"customer_words": "required"}
    requirement = sales.create("zhang.wei", "requirement", {
        "customer": customer["id"], "scenario": "cost",
        "customer_words": "采购成本太高，老板天天问",
        "tried_before": "换过一家国产供应商", "why_failed": "交期不稳定"})
    refused = sales.patch("zhang.wei", "requirement", requirement,
                          {"customer_words": "客户希望降价"})
    assert problems(refused) == {"customer_words": "readonly"}
    changed = sales.update("zhang.wei", "requirement", requirement, {"scenario": "delivery"})
    assert changed["customer_words"] == "采购成本太高，老板天天问"
    history = ok(sales.client.get(sales.url("requirement", requirement["id"], "history"),
                                  headers=sales.as_("zhang.wei")))["items"]
    assert all(h["after"]["customer_words"] == "采购成本太高，老板天天问" for h in history)
