"""Effects over the records API: sales lines take stock, returns give it back, bounds
refuse the whole write, thresholds raise one alert per crossing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.effects.helpers import APP, shop_app
from tests.runtime.records.helpers import publish, records_url


class Shop:
    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def post(self, entity: str, data: dict[str, Any], language: str = "zh-CN") -> Any:
        return self.client.post(records_url(entity, APP), json={"data": data},
                                headers={**self.headers, "Accept-Language": language})

    def create(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        response = self.post(entity, data)
        assert response.status_code == 201, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        response = self.client.get(f"{records_url(entity, APP)}/{record_id}",
                                   headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def patch(self, entity: str, record: dict[str, Any], data: dict[str, Any]) -> Any:
        return self.client.patch(f"{records_url(entity, APP)}/{record['id']}",
                                 json={"version": record["version"], "data": data},
                                 headers=self.headers)

    def qty(self, stock: dict[str, Any]) -> Any:
        return self.get("stock", stock["id"])["qty"]

    def alerts(self) -> list[dict[str, Any]]:
        response = self.client.get(records_url("alert", APP), headers=self.headers)
        return response.get_json()["items"]  # type: ignore[no-any-return]


@pytest.fixture
def shop(client: Any, admin_headers: dict[str, str]) -> Shop:
    publish(client, admin_headers, shop_app())
    return Shop(client, admin_headers)


def _setup(shop: Shop, qty: int = 5, safety: int = 0, backorder: bool = False
           ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    store = shop.create("store", {"name": "南京路店", "allow_backorder": backorder})
    skus = [shop.create("sku", {"barcode": f"69000000000{i}"}) for i in range(3)]
    stocks = [shop.create("stock", {"store": store["id"], "sku": s["id"], "qty": qty,
                                    "safety": safety}) for s in skus]
    return store, skus, stocks


def test_three_lines_take_stock_of_each_sku_in_one_write(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=5)
    order = shop.create("order", {"store": store["id"], "lines": [
        {"sku": skus[0]["id"], "qty": 1}, {"sku": skus[1]["id"], "qty": 2},
        {"sku": skus[2]["id"], "qty": 3}]})
    assert [shop.qty(s) for s in stocks] == [4, 3, 2]
    history = shop.client.get(f"{records_url('stock', APP)}/{stocks[2]['id']}/history",
                              headers=shop.headers).get_json()["items"]
    assert history[0]["action"] == "update"
    assert history[0]["changes"] == {"qty": [5, 2]}
    assert order["lines"][2]["qty"] == 3


def test_too_much_refuses_the_whole_order_naming_the_line(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=2)
    lines = [{"sku": skus[0]["id"], "qty": 1}, {"sku": skus[1]["id"], "qty": 3}]
    response = shop.post("order", {"store": store["id"], "lines": lines})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert [(d["path"], d["code"]) for d in details] == [("lines[1].qty", "effect_bound")]
    assert "现有 2" in details[0]["message"] and "需要 3" in details[0]["message"]
    english = shop.post("order", {"store": store["id"], "lines": lines}, language="en")
    assert "2 available, 3 needed" in english.get_json()["error"]["details"][0]["message"]
    assert [shop.qty(s) for s in stocks] == [2, 2, 2]  # the first line was undone too
    listed = shop.client.get(records_url("order", APP), headers=shop.headers).get_json()
    assert listed["items"] == []


def test_back_orders_let_stock_go_negative(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=1, backorder=True)
    shop.create("order", {"store": store["id"], "lines": [{"sku": skus[0]["id"], "qty": 3}]})
    assert shop.qty(stocks[0]) == -2


def test_changes_apply_the_difference(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=10)
    order = shop.create("order", {"store": store["id"], "lines": [
        {"sku": skus[0]["id"], "qty": 2}, {"sku": skus[1]["id"], "qty": 2}]})
    first, second = order["lines"]
    response = shop.patch("order", order, {"lines": [
        {"id": first["id"], "sku": skus[0]["id"], "qty": 5},     # 3 more
        {"id": second["id"], "sku": skus[2]["id"], "qty": 2}]})  # moved to another SKU
    assert response.status_code == 200, response.get_json()
    assert [shop.qty(s) for s in stocks] == [5, 10, 8]
    order = response.get_json()
    response = shop.patch("order", order, {"status": "void"})
    assert response.status_code == 200
    assert [shop.qty(s) for s in stocks] == [10, 10, 10]
    order = response.get_json()
    response = shop.patch("order", order, {"status": "done"})
    assert [shop.qty(s) for s in stocks] == [5, 10, 8]
    order = response.get_json()
    deleted = shop.client.delete(f"{records_url('order', APP)}/{order['id']}",
                                 headers=shop.headers)
    assert deleted.status_code == 200
    assert [shop.qty(s) for s in stocks] == [10, 10, 10]
    shop.patch("stock", shop.get("stock", stocks[0]["id"]), {"qty": 4})
    restored = shop.client.post(f"{records_url('order', APP)}/{order['id']}/restore",
                                headers=shop.headers)
    assert restored.status_code == 422  # 5 units no longer there
    assert [shop.qty(s) for s in stocks] == [4, 10, 10]


def test_a_note_change_leaves_stock_alone_even_without_its_record(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=3)
    order = shop.create("order", {"store": store["id"], "lines": [
        {"sku": skus[0]["id"], "qty": 1}]})
    shop.client.delete(f"{records_url('stock', APP)}/{stocks[0]['id']}", headers=shop.headers)
    assert shop.patch("order", order, {"status": "done"}).status_code == 200
    response = shop.post("order", {"store": store["id"], "lines": [
        {"sku": skus[0]["id"], "qty": 1}]})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["code"] == "effect_no_target"


def test_returns_through_a_relation_give_stock_back(shop: Shop) -> None:
    _, _, stocks = _setup(shop, qty=0)
    back = shop.create("stock_return", {"stock": stocks[0]["id"], "qty": 4})
    assert shop.qty(stocks[0]) == 4
    assert shop.patch("stock_return", back, {"qty": 1}).status_code == 200
    assert shop.qty(stocks[0]) == 1


def test_crossing_the_threshold_raises_one_alert(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=7, safety=5)
    sell = {"store": store["id"], "lines": [{"sku": skus[0]["id"], "qty": 1}]}
    shop.create("order", sell)  # 6
    assert shop.alerts() == [] and shop.get("stock", stocks[0]["id"])["low"] is False
    shop.create("order", sell)  # 5: at the threshold, not below
    assert shop.alerts() == []
    for _ in range(3):  # 4, 3, 2: one crossing
        shop.create("order", sell)
    alerts = shop.alerts()
    assert [(a["stock"], a["qty"], a["note"]) for a in alerts] == [(stocks[0]["id"], 4, "was 5")]
    assert shop.get("stock", stocks[0]["id"])["low"] is True
    shop.create("stock_return", {"stock": stocks[0]["id"], "qty": 10})  # 12: recovered
    assert shop.get("stock", stocks[0]["id"])["low"] is False
    shop.create("order", {"store": store["id"], "lines": [{"sku": skus[0]["id"], "qty": 8}]})
    assert len(shop.alerts()) == 2


def test_bulk_rows_are_named_by_row_and_line(shop: Shop) -> None:
    store, skus, stocks = _setup(shop, qty=1)
    response = shop.client.post(f"{records_url('order', APP)}/bulk", headers=shop.headers,
                                json={"rows": [
                                    {"store": store["id"], "lines": [
                                        {"sku": skus[0]["id"], "qty": 1}]},
                                    {"store": store["id"], "lines": [
                                        {"sku": skus[1]["id"], "qty": 1},
                                        {"sku": skus[0]["id"], "qty": 1}]}]})
    assert response.status_code == 422
    paths = [d["path"] for d in response.get_json()["error"]["details"]]
    assert paths == ["rows[1].lines[1].qty"]
    assert [shop.qty(s) for s in stocks] == [1, 1, 1]
