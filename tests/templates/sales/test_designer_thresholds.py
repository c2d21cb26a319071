"""A manager changes the seed documents' numbers in the designer: the app behaves
differently at once, without a line of code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.templates.sales.helpers import APP, Sales, ok
from tests.templates.sales.test_leads import WARM, endpoints, submit_form


def redesign(sales: Sales, change: Callable[[dict[str, Any]], None]) -> None:
    """Open the draft, change it, save it and publish it, as the designer does."""
    draft = ok(sales.client.get(f"/api/apps/{APP}/draft", headers=sales.admin))["definition"]
    change(draft)
    ok(sales.client.put(f"/api/apps/{APP}/draft", json={"definition": draft},
                        headers=sales.admin))
    plan = ok(sales.client.post(f"/api/apps/{APP}/plan", headers=sales.admin))
    assert plan
    ok(sales.client.post(f"/api/apps/{APP}/publish", headers=sales.admin))


def field_of(definition: dict[str, Any], entity: str, key: str) -> dict[str, Any]:
    found = next(e for e in definition["entities"] if e["key"] == entity)
    return next(f for f in found["fields"] if f["key"] == key)  # type: ignore[no-any-return]


def replace(logic: Any, old: Any, new: Any) -> Any:
    """``logic`` with every constant ``old`` replaced by ``new``."""
    if isinstance(logic, dict):
        return {k: replace(v, old, new) for k, v in logic.items()}
    if isinstance(logic, list):
        return [replace(v, old, new) for v in logic]
    return new if logic == old and type(logic) is type(old) else logic


def quote_at_82_percent(sales: Sales) -> dict[str, Any]:
    count = len(sales.list("admin", "customer"))
    product = sales.create("admin", "product", {"model": f"VX-30{count}", "name": "呼吸机",
                                                "list_price": 100000, "cost": 60000})
    customer = sales.customer("zhang.wei", f"客户{count}")
    return sales.create("zhang.wei", "quote", {
        "customer": customer["id"], "discount_reason": "年度框架",
        "lines": [{"product": product["id"], "quantity": 1, "unit_price": 82000}]})


def chain_of(sales: Sales, quote: dict[str, Any]) -> str:
    runs = ok(sales.client.get(sales.url("quote", quote["id"], "approvals"),
                               headers=sales.as_("zhang.wei")))["items"]
    return str(runs[0]["chain"])


def test_the_price_floor_from_85_to_80_percent(sales: Sales) -> None:
    before = quote_at_82_percent(sales)
    assert before["below_floor"] is True and chain_of(sales, before) == "low_price"

    def lower_the_floor(draft: dict[str, Any]) -> None:
        floor = field_of(draft, "quote", "below_floor")
        floor["expression"] = replace(floor["expression"], 0.85, 0.80)
        floor["title"] = {"zh-CN": "低于标准价80%", "en": "Below 80% of list price"}

    redesign(sales, lower_the_floor)
    after = quote_at_82_percent(sales)
    assert after["below_floor"] is False and after["over_threshold"] is True
    assert chain_of(sales, after) == "over_discount"  # only the manager signs now
    sales.decide("chen.jing", record=after)
    assert sales.get("zhang.wei", "quote", after["id"])["printable"] is True


def test_the_a_grade_from_85_to_80_points_and_a_new_intent_word(sales: Sales) -> None:
    form = endpoints(sales)["website"]
    assert submit_form(sales, form, WARM).status_code == 201
    trial = dict(WARM, name="孙经理", phone="13600004444", message="可以先安排试用吗")
    assert submit_form(sales, form, trial, ip="203.0.113.9").status_code == 201
    warm, asked = sales.list("admin", "lead", sort="id")
    assert (warm["score"], warm["grade"]) == (83, "B")
    assert asked["high_intent"] is False

    def retune(draft: dict[str, Any]) -> None:
        grade = field_of(draft, "lead", "grade")
        grade["expression"] = replace(grade["expression"], 85, 80)
        intent = field_of(draft, "lead", "high_intent")
        words = intent["expression"]["or"]
        words.append({"in": ["试用", words[0]["in"][1]]})

    redesign(sales, retune)
    for data, ip in ((dict(WARM, name="钱经理", phone="13600005555"), "203.0.113.10"),
                     (dict(trial, name="李经理", phone="13600006666"), "203.0.113.11")):
        assert submit_form(sales, form, data, ip=ip).status_code == 201
    warm, asked = sales.list("admin", "lead", sort="-id", limit=2)[::-1]
    assert (warm["score"], warm["grade"], warm["channel"]) == (83, "A", "专属快速通道")
    assert asked["high_intent"] is True and asked["score"] == 83
