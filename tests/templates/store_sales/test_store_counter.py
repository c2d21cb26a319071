"""At the counter: scanned sales take stock in one transaction, a sale without stock is
refused unless the store allows back orders, returns and voids give stock back, points
follow, and the safety stock raises one alert per crossing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates.store_sales.package import url
from tests.templates.store_sales.shop import Shop, open_shop


@pytest.fixture
def shop(client: Any, admin_headers: dict[str, str]) -> Shop:
    return open_shop(client, admin_headers)


def test_three_scanned_lines_take_stock_together(shop: Shop) -> None:
    before = {k: shop.stock("sh01", k)["qty"] for k in ("cola330", "chips70", "tee_m")}
    response = shop.sell("SH01", ("cola330", 2), ("chips70", 1), ("tee_m", 1))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["store"] == shop.id("store:sh01") and order["team"] == "store_sh01"
    assert [(line["sku"], line["unit_price"]) for line in order["lines"]] == [
        (shop.id("sku:cola330"), 3.5), (shop.id("sku:chips70"), 8.5), (shop.id("sku:tee_m"), 59)]
    assert order["amount"] == 74.5 and order["paid"] == 74.5
    after = {k: shop.stock("sh01", k)["qty"] for k in before}
    assert after == {"cola330": before["cola330"] - 2, "chips70": before["chips70"] - 1,
                     "tee_m": before["tee_m"] - 1}
    history = shop.client.get(f"{url('stock')}/{shop.id('stock:sh01_tee_m')}/history",
                              headers=shop.headers).get_json()["items"]
    assert history[0]["changes"] == {"qty": [before["tee_m"], after["tee_m"]]}
    assert history[0]["user"]["username"] == "admin"


def test_a_line_without_stock_refuses_the_whole_sale(shop: Shop) -> None:
    shop.set_stock("sh01", "tee_m", 1)
    before = {k: shop.stock("sh01", k)["qty"] for k in ("cola330", "chips70")}
    response = shop.sell("SH01", ("cola330", 2), ("chips70", 1), ("tee_m", 2))
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert (problem["path"], problem["code"]) == ("lines[2].qty", "effect_bound")
    assert problem["message"] == "库存不足：本店该商品现有 1 件，本次需要 2 件"
    english = shop.sell("SH01", ("tee_m", 2), language="en").get_json()
    assert english["error"]["details"][0]["message"] == \
        "Not enough stock in this store: 1 on hand, 2 needed"
    assert {k: shop.stock("sh01", k)["qty"] for k in before} == before
    assert shop.stock("sh01", "tee_m")["qty"] == 1
    assert shop.count("sales_order") == 0


def test_a_store_allowing_back_orders_sells_below_zero(shop: Shop) -> None:
    shop.set_stock("gz01", "tee_m", 1)
    response = shop.sell("GZ01", ("tee_m", 3))
    assert response.status_code == 201, response.get_json()
    assert shop.stock("gz01", "tee_m")["qty"] == -2


def test_returns_and_voids_give_stock_and_points_back(shop: Shop) -> None:
    member = shop.get("member", shop.id("member:m000"))
    stock = shop.stock("sh01", "nuts150")["qty"]
    response = shop.sell("SH01", ("nuts150", 2), member_phone=member["phone"])
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["member"] == member["id"] and order["points_earned"] == 59
    assert shop.get("member", member["id"])["points"] == member["points"] + 59
    line = order["lines"][0]
    back = {"order": order["id"], "reason": "quality",
            "lines": [{"sale_line": line["id"], "qty": 1}]}
    response = shop.client.post(url("sales_return"), json={"data": back}, headers=shop.headers)
    assert response.status_code == 201, response.get_json()
    returned = response.get_json()
    assert returned["store"] == shop.id("store:sh01") and returned["amount"] == 29.9
    assert returned["lines"][0]["sku"] == shop.id("sku:nuts150")
    assert shop.stock("sh01", "nuts150")["qty"] == stock - 1
    assert shop.get("sales_line", line["id"])["returned_qty"] == 1
    assert shop.get("member", member["id"])["points"] == member["points"] + 59 - 29
    again = dict(back, lines=[{"sale_line": line["id"], "qty": 2}])
    response = shop.client.post(url("sales_return"), json={"data": again}, headers=shop.headers)
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert problem["path"] == "lines[0].qty"
    assert problem["message"] == "退货数量超出：该明细售出 2 件，已退 1 件，本次退 2 件"
    response = shop.sell("SH01", ("nuts150", 1), member_phone=member["phone"])
    order = response.get_json()
    assert shop.stock("sh01", "nuts150")["qty"] == stock - 2
    response = shop.client.patch(f"{url('sales_order')}/{order['id']}", headers=shop.headers,
                                 json={"version": order["version"],
                                       "data": {"status": "voided"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["lines"][0]["status"] == "voided"
    assert shop.stock("sh01", "nuts150")["qty"] == stock - 1
    assert shop.get("member", member["id"])["points"] == member["points"] + 59 - 29


def test_points_cannot_be_spent_twice(shop: Shop) -> None:
    member = shop.get("member", shop.id("member:m003"))
    response = shop.sell("SH01", ("detergent2", 3), member_phone=member["phone"])
    assert response.status_code == 201
    points = shop.get("member", member["id"])["points"]
    assert points == member["points"] + 119
    response = shop.sell("SH01", ("cola330", 1), member_phone=member["phone"],
                         points_used=1000)  # worth 10 yuan on a 3.5 yuan sale
    assert response.status_code == 422
    assert {(d["path"], d["code"]) for d in response.get_json()["error"]["details"]} == {
        ("discount", "not_below_zero")}
    response = shop.sell("SH01", ("tee_m", 2), member_phone=member["phone"],
                         points_used=5000)
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert (problem["path"], problem["message"]) == (
        "points_used", f"积分不足：会员现有 {points} 分")


def test_crossing_the_safety_stock_raises_one_alert(shop: Shop) -> None:
    shop.set_stock("hz01", "socks3", 8, safety=5)
    assert shop.count("stock_alert") == 0
    for _ in range(5):  # 7, 6, 5, 4, 3
        assert shop.sell("HZ01", ("socks3", 1)).status_code == 201
    alerts = shop.client.get(url("stock_alert"), headers=shop.headers).get_json()["items"]
    assert [(a["store"], a["sku"], a["qty"], a["safety_stock"], a["status"]) for a in alerts] == [
        (shop.id("store:hz01"), shop.id("sku:socks3"), 4, 5, "open")]
    assert shop.stock("hz01", "socks3")["low_stock"] is True
    shop.set_stock("hz01", "socks3", 30)
    assert shop.stock("hz01", "socks3")["low_stock"] is False
    assert shop.sell("HZ01", ("socks3", 26)).status_code == 201
    assert shop.count("stock_alert") == 2
