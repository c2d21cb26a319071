"""POS receipts arrive through the inbound webhook and land as sales orders: the same
receipt twice is one order (and takes stock once); a receipt the shop cannot read is a
422 naming the receipt's own JSON path."""

from __future__ import annotations

import json
from typing import Any

from tests.templates.store_sales.package import url
from tests.templates.store_sales.shop import Shop, open_shop


def _hook(shop: Shop) -> str:
    response = shop.client.get("/api/admin/intake", headers=shop.headers)
    assert response.status_code == 200, response.get_json()
    [hook] = [e for e in response.get_json() if e["key"] == "pos_receipts"]
    return str(hook["path"])


def _receipt(shop: Shop, number: str, **extra: Any) -> dict[str, Any]:
    return {"receipt_no": number, "store_code": "HZ01", "cashier": "D2002",
            "paid_at": "2026-03-02T11:20:00Z", "payment": "alipay",
            "items": [{"barcode": shop.barcode("tea500"), "qty": 2, "unit_price": 5},
                      {"barcode": shop.barcode("choco100"), "qty": 1, "unit_price": 16.5}],
            **extra}


def test_the_same_receipt_twice_is_one_order(client: Any, admin_headers: dict[str, str]
                                             ) -> None:
    shop = open_shop(client, admin_headers)
    path = _hook(shop)
    tea = shop.stock("hz01", "tea500")["qty"]
    member = shop.get("member", shop.id("member:m001"))
    body = json.dumps(_receipt(shop, "POS-HZ01-000123", member_phone=member["phone"]))
    first = client.post(path, data=body, content_type="application/json")
    assert first.status_code == 201, first.get_json()
    order = first.get_json()["record"]
    assert (order["channel"], order["store"], order["receipt_no"]) == (
        "pos", shop.id("store:hz01"), "POS-HZ01-000123")
    assert order["assistant"] == shop.id("assistant:a_hz_2")
    assert order["member"] == member["id"] and order["paid"] == 26.5
    again = client.post(path, data=body, content_type="application/json")
    assert again.status_code == 200
    assert again.get_json()["record"]["id"] == order["id"]
    assert shop.count("sales_order", {"==": [{"var": "receipt_no"}, "POS-HZ01-000123"]}) == 1
    assert shop.stock("hz01", "tea500")["qty"] == tea - 2
    assert shop.get("member", member["id"])["points"] == member["points"] + 26


def test_a_receipt_the_shop_cannot_read_names_its_json_path(client: Any,
                                                            admin_headers: dict[str, str]
                                                            ) -> None:
    shop = open_shop(client, admin_headers)
    path = _hook(shop)
    receipt = _receipt(shop, "POS-HZ01-000124")
    receipt["items"][1]["barcode"] = "6900000000000"
    response = client.post(path, json=receipt, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    details = {d["path"]: d["message"] for d in response.get_json()["error"]["details"]}
    assert "$.items[1].barcode" in details
    assert "6900000000000" in details["$.items[1].barcode"]
    assert client.get(url("sales_order"), headers=admin_headers).get_json()["items"] == []
