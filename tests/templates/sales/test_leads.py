"""Leads from the website form, the 400 hotline and the official account: intent tagging,
scoring into A/B/C and distribution by grade, region, industry and budget band."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from builder import clock
from tests.templates.sales.helpers import Sales, ok, problems

HOT = {"name": "王主任", "company": "苏州市立医院", "phone": "13800001111", "region": "east",
       "industry": "hospital", "budget": 800000, "message": "请尽快提供报价，并安排样品试用",
       "visits_30d": 6, "page_seconds": 420, "downloads": 3}
WARM = {"name": "陈经理", "company": "宁波精密制造", "phone": "13900002222", "region": "east",
        "industry": "manufacturing", "budget": 200000, "message": "想了解价格，能发个报价吗",
        "visits_30d": 3, "page_seconds": 150, "downloads": 1}
COLD = {"name": "赵先生", "company": "厦门贸易", "phone": "13700003333", "region": "south",
        "industry": "retail", "message": "先看看产品介绍", "visits_30d": 2, "page_seconds": 100,
        "downloads": 1}


def endpoints(sales: Sales) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in ok(sales.client.get("/api/admin/intake",
                                                              headers=sales.admin))}


def submit_form(sales: Sales, form: dict[str, Any], data: dict[str, Any],
                ip: str = "203.0.113.7") -> Any:
    """A visitor opens the form, spends half a minute on it and sends it."""
    shown = ok(sales.client.get(form["path"]))
    clock.advance(timedelta(seconds=30))
    body = {"data": data, "submit_token": shown["submit_token"], "homepage": ""}
    return sales.client.post(form["path"], json=body, environ_base={"REMOTE_ADDR": ip})


def call_hook(sales: Sales, hook: dict[str, Any], document: dict[str, Any]) -> Any:
    return sales.client.post(hook["path"], json=document)


def lead_by(sales: Sales, name: str) -> dict[str, Any]:
    [lead] = sales.list("admin", "lead", filter={"==": [{"var": "name"}, name]})
    return lead


def test_a_batch_of_leads_is_scored_tagged_and_distributed(sales: Sales,
                                                           run_jobs: Callable[[], None]) -> None:
    clock.travel_to(clock.now())
    intake = endpoints(sales)
    form, hotline, wechat = intake["website"], intake["hotline_400"], intake["wechat_mp"]
    assert form["kind"] == "form" and hotline["kind"] == "hook"
    shown = ok(sales.client.get(form["path"]))
    assert shown["title"] == "获取方案与报价"
    assert [f["key"] for f in shown["fields"]][:4] == ["name", "company", "phone", "email"]

    for data in (HOT, WARM, COLD):
        assert submit_form(sales, form, data).status_code == 201
    call = {"call_id": "CALL-0001", "call_time": clock.now().isoformat(),
            "caller": {"name": "刘科长", "phone": "02088886666", "region": "south"},
            "transcript": "你们那个监护仪报价能不能再低一点？价格合适明天能签。"}
    assert call_hook(sales, hotline, call).status_code == 201
    assert call_hook(sales, hotline, call).status_code == 200  # the same call once
    message = {"msg_id": "wx-778", "nickname": "杭州骨科-小周", "content": "请问有样品吗？",
               "sent_at": clock.now().isoformat()}
    assert call_hook(sales, wechat, message).status_code == 201

    hot, warm, cold = lead_by(sales, "王主任"), lead_by(sales, "陈经理"), lead_by(sales, "赵先生")
    phone, wx = lead_by(sales, "刘科长"), lead_by(sales, "杭州骨科-小周")
    assert hot["source"] == "web_form" and phone["source"] == "hotline_400"
    assert wx["source"] == "wechat_mp" and phone["message"].startswith("你们那个监护仪")
    # intent: 报价, 样品, 明天能签 mark high intent and raise the priority
    assert [x["high_intent"] for x in (hot, warm, cold, phone, wx)] == [True, True, False,
                                                                         True, True]
    assert (hot["score"], warm["score"], cold["score"]) == (100, 83, 38)
    assert (phone["score"], wx["score"]) == (60, 60)
    assert [x["grade"] for x in (hot, warm, cold, phone, wx)] == ["A", "B", "C", "B", "B"]
    assert hot["channel"] == "专属快速通道" and cold["channel"] == "培育池"
    assert warm["priority"] == 183 and cold["priority"] == 38

    east = {sales.ids["zhang.wei"], sales.ids["li.na"]}
    south = {sales.ids["wang.fang"], sales.ids["zhao.lei"]}
    assert hot["owner"] in east  # A: the fast channel of its region
    assert warm["owner"] in east and phone["owner"] in south  # B: round robin by region
    assert wx["owner"] in east | south
    assert cold["owner"] is None  # C: left in the nurturing pool
    run_jobs()
    assert lead_by(sales, "赵先生")["status"] == "nurturing"
    assert lead_by(sales, "陈经理")["status"] == "new"

    # the pool is claimed atomically: the second rep is told someone was faster
    claim = sales.url("lead", cold["id"], "claim")
    first = sales.client.post(claim, headers=sales.as_("wang.fang"))
    assert first.status_code == 200, first.get_json()
    second = sales.client.post(claim, headers=sales.as_("zhao.lei"))
    assert second.status_code == 409
    assert lead_by(sales, "赵先生")["owner"] == sales.ids["wang.fang"]


def test_available_reps_first(sales: Sales) -> None:
    form = endpoints(sales)["website"]
    busy = sales.client.put("/api/auth/me/availability", json={"available": False},
                            headers=sales.as_("li.na"))
    assert busy.status_code == 200
    for index in range(3):
        data = dict(HOT, name=f"王主任{index}", phone=f"1380000111{index}")
        assert submit_form(sales, form, data, ip=f"203.0.113.{index + 10}").status_code == 201
    owners = {lead["owner"] for lead in sales.list("admin", "lead")}
    assert owners == {sales.ids["zhang.wei"]}


def test_bad_intake_is_refused_field_by_field(sales: Sales) -> None:
    intake = endpoints(sales)
    refused = submit_form(sales, intake["website"], {"company": "无名", "budget": -5})
    assert problems(refused) == {"name": "required", "budget": "min"}
    refused = call_hook(sales, intake["hotline_400"], {"call_id": "C-2", "caller": {}})
    assert refused.status_code == 422
    assert "name" in str(refused.get_json())
