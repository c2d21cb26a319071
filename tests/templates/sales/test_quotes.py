"""Quotes: price locking by tier and purchase history, the three-step approval below 85% of
list price, the quote PDF and quotes in other currencies."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.runtime.documents.test_export_print import _require_pdf_tools
from tests.templates.sales.helpers import Sales, messages, ok, problems


@pytest.fixture
def catalogue(sales: Sales) -> dict[str, Any]:
    vx = sales.create("admin", "product", {"model": "VX-300", "name": "呼吸机 VX-300",
                                           "list_price": 100000, "cost": 60000})
    mon = sales.create("admin", "product", {"model": "PM-12", "name": "监护仪 PM-12",
                                            "list_price": 20000, "cost": 9000})
    customer = sales.create("zhang.wei", "customer", {
        "name": "宁波精密制造", "industry": "manufacturing", "region": "east", "tier": "growth"})
    return {"vx": vx, "mon": mon, "customer": customer}


def quote_data(catalogue: dict[str, Any], unit_price: float, **extra: Any) -> dict[str, Any]:
    return {"customer": catalogue["customer"]["id"], "lines": [
        {"product": catalogue["vx"]["id"], "quantity": 2, "unit_price": unit_price},
        {"product": catalogue["mon"]["id"], "quantity": 1, "unit_price": 20000}], **extra}


def printed(sales: Sales, who: str, quote: dict[str, Any]) -> Any:
    return sales.client.get(sales.url("quote", quote["id"], "print", "quote_pdf"),
                            headers=sales.as_(who))


def test_a_quote_at_80_percent_of_list_price_goes_through_three_approvers(
        sales: Sales, catalogue: dict[str, Any]) -> None:
    # 2 x 80,000 + 20,000 against 2 x 100,000 + 20,000 of list price: the lines' 80%
    refused = sales.post("zhang.wei", "quote", quote_data(catalogue, 76000))
    assert problems(refused) == {"discount_reason": "required"}
    quote = sales.create("zhang.wei", "quote", quote_data(
        catalogue, 76000, discount_reason="竞品报价低 20%，客户承诺年度框架采购"))
    assert quote["list_total"] == 220000 and quote["total"] == 172000
    assert quote["price_ratio"] == 0.7818 and quote["below_floor"] is True
    assert quote["lines"][0]["list_price"] == 100000 and quote["lines"][0]["unit_cost"] == 60000
    assert quote["printable"] is False

    runs = ok(sales.client.get(sales.url("quote", quote["id"], "approvals"),
                               headers=sales.as_("zhang.wei")))["items"]
    assert len(runs) == 1 and runs[0]["chain"] == "low_price" and runs[0]["status"] == "pending"
    # locked while pending, and no PDF before it is approved
    locked = sales.patch("zhang.wei", "quote", quote, {"valid_until": "2026-04-30"})
    assert locked.status_code == 409
    refused = printed(sales, "zhang.wei", quote)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"].startswith("超阈值折扣或低于标准价85%的报价")

    assert sales.inbox("zhou.min") == [] and sales.inbox("sun.li") == []
    sales.decide("chen.jing", comment="区域经理同意")  # the rep's regional manager
    assert sales.inbox("chen.jing") == []
    sales.decide("zhou.min", comment="毛利可接受")
    sales.decide("sun.li", comment="同意")
    quote = sales.get("zhang.wei", "quote", quote["id"])
    assert quote["status"] == "approved" and quote["approved_ratio"] == 0.7818
    assert quote["printable"] is True
    runs = ok(sales.client.get(sales.url("quote", quote["id"], "approvals"),
                               headers=sales.as_("zhang.wei")))["items"]
    assert runs[0]["status"] == "approved"

    _require_pdf_tools()
    response = printed(sales, "zhang.wei", quote)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.data,
                          capture_output=True, check=True).stdout.decode()
    response.close()
    for expected in ("报价单", quote["code"], "宁波精密制造", "VX-300", "呼吸机 VX-300",
                     "152,000.00", "172,000.00", "竞品报价低 20%"):
        assert expected in text, (expected, text)

    # lowering the price again needs a new approval before it prints again
    lines = [dict(line) for line in quote["lines"]]
    lines[0]["unit_price"] = 70000
    ok(sales.patch("zhang.wei", "quote", quote, {"lines": lines}))
    assert printed(sales, "zhang.wei", quote).status_code == 422
    assert len(sales.inbox("chen.jing")) == 1


def test_discount_limits_follow_the_tier_and_purchase_history(
        sales: Sales, catalogue: dict[str, Any]) -> None:
    # a growth customer may get 10%: 12% needs a reason and the manager's approval
    within = sales.create("zhang.wei", "quote", quote_data(catalogue, 92000))
    assert within["allowed_discount"] == 0.1 and within["over_threshold"] is False
    assert within["printable"] is True and sales.inbox("chen.jing") == []
    refused = sales.post("zhang.wei", "quote", quote_data(catalogue, 86800))
    assert problems(refused) == {"discount_reason": "required"}
    over = sales.create("zhang.wei", "quote", quote_data(catalogue, 86800,
                                                         discount_reason="首单战略价"))
    assert over["discount_rate"] == 0.12 and over["over_threshold"] is True
    assert over["below_floor"] is False and over["printable"] is False
    sales.decide("chen.jing")
    assert sales.get("zhang.wei", "quote", over["id"])["printable"] is True

    # two signed contracts make a repeat buyer: three more points of discount are allowed
    for signed_on in ("2025-06-15", "2026-01-15"):
        sales.signed_contract("zhang.wei", catalogue["customer"], 100000, signed_on)
    repeat = sales.create("zhang.wei", "quote", quote_data(catalogue, 86800))
    assert repeat["purchase_count"] == 2 and repeat["allowed_discount"] == 0.13
    assert repeat["over_threshold"] is False and repeat["printable"] is True


def test_a_quote_in_another_currency_records_the_rate_used(
        sales: Sales, catalogue: dict[str, Any]) -> None:
    data = {"customer": catalogue["customer"]["id"], "currency": "usd", "lines": [
        {"product": catalogue["vx"]["id"], "quantity": 2, "unit_price": 13500},
        {"product": catalogue["mon"]["id"], "quantity": 1, "unit_price": 2800}]}
    refused = sales.post("zhang.wei", "quote", data)
    assert problems(refused) == {"exchange_rate": "required"}
    assert messages(refused)["exchange_rate"]
    quote = sales.create("zhang.wei", "quote", dict(data, exchange_rate=7.1234))
    assert quote["exchange_rate"] == 7.1234 and quote["total"] == 29800
    # list prices are in yuan: the discount is judged on the amount converted at that rate
    assert quote["total_cny"] == 212277.32 and quote["price_ratio"] == 0.9649
    assert quote["over_threshold"] is False and quote["printable"] is True
    # a CNY quote has no rate to give
    assert sales.post("zhang.wei", "quote", quote_data(catalogue, 95000, exchange_rate=7)
                      ).status_code == 422
