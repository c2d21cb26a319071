"""Installing the store-sales package with its demo data gives working stores, stock,
members and a month of sales: stock is the opening stock minus what was sold plus what
came back, points are what members earned and spent, alerts were raised once per
crossing of the safety stock."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from tests.templates.store_sales.package import demo, install, url


def _all(client: Any, headers: dict[str, str], entity: str, **query: Any
         ) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(url(entity), headers=headers,
                          query_string={"limit": 500, **({"cursor": cursor} if cursor else {}),
                                        **query}).get_json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _key(ref: dict[str, str]) -> str:
    return ref["$ref"].split(":", 1)[1]


def expected_from_demo() -> dict[str, Any]:
    """Stock, points and revenue worked out from the demo files alone."""
    data = demo()
    price = {s["$key"]: Decimal(str(s["price"])) for s in data["sku"]}
    stock = {(_key(s["store"]), _key(s["sku"])): s["qty"] for s in data["stock"]}
    lines: dict[str, tuple[str, str, int]] = {}
    points: Counter[str] = Counter()
    paid_total = Decimal(0)
    for order in data["sales_order"]:
        store = _key(order["store"])
        amount = sum((price[_key(line["sku"])] * line["qty"] for line in order["lines"]),
                     Decimal(0))
        paid = amount - Decimal(str(order.get("discount", 0))) - \
            Decimal(order.get("points_used", 0)) / 100
        paid_total += paid
        if "member" in order:
            points[_key(order["member"])] += math.floor(paid) - order.get("points_used", 0)
        for line in order["lines"]:
            stock[(store, _key(line["sku"]))] -= line["qty"]
            lines[line["$key"]] = (store, _key(line["sku"]), line["qty"])
    for back in data["sales_return"]:
        refund = Decimal(0)
        for line in back["lines"]:
            store, sku, _ = lines[_key(line["sale_line"])]
            stock[(store, sku)] += line["qty"]
            refund += price[sku] * line["qty"]
        order = next(o for o in data["sales_order"] if o["$key"] == _key(back["order"]))
        if "member" in order:
            points[_key(order["member"])] -= math.floor(refund)
    return {"stock": stock, "points": points, "paid": paid_total}


def test_install_with_demo_gives_a_working_month(client: Any,
                                                 admin_headers: dict[str, str]) -> None:
    installed = install(client, admin_headers)
    data = demo()
    assert installed.report["records"] == {f"store_sales.{e}": len(records)
                                           for e, records in data.items()}
    assert sorted(installed.report["roles"]["created"]) == [
        "regional_manager", "shop_assistant", "store_admin", "store_manager"]
    counts = {e: client.get(url(e), headers=admin_headers,
                            query_string={"count": "true", "limit": 1}).get_json()["total"]
              for e in data}
    assert counts == {e: len(records) for e, records in data.items()}
    expected = expected_from_demo()

    stock = {(r["store"], r["sku"]): r for r in _all(client, admin_headers, "stock")}
    for (store, sku), qty in expected["stock"].items():
        record = stock[(installed.id(f"store:{store}"), installed.id(f"sku:{sku}"))]
        assert record["qty"] == qty, (store, sku)
        assert record["low_stock"] is (qty < record["safety_stock"]), (store, sku)
    # the Shanghai store sold its nuts out; Guangzhou allows back orders and went negative
    assert stock[(installed.id("store:sh01"), installed.id("sku:nuts150"))]["qty"] == 0
    assert min(r["qty"] for r in stock.values()
               if r["store"] == installed.id("store:gz01")) < 0
    assert all(r["qty"] >= 0 for r in stock.values()
               if r["store"] != installed.id("store:gz01"))

    members = {m["id"]: m for m in _all(client, admin_headers, "member")}
    for key, earned in expected["points"].items():
        assert members[installed.id(f"member:{key}")]["points"] == earned, key
    assert all(m["points"] >= 0 for m in members.values())

    orders = _all(client, admin_headers, "sales_order")
    assert sum(Decimal(str(o["paid"])) for o in orders) == expected["paid"]
    assert {o["team"] for o in orders} == {"store_sh01", "store_hz01", "store_gz01"}
    lines = _all(client, admin_headers, "sales_line")
    assert all(line["sold_at"] and line["status"] == "completed" for line in lines)

    alerts = _all(client, admin_headers, "stock_alert")
    per_stock: defaultdict[int, int] = defaultdict(int)
    for alert in alerts:
        per_stock[alert["stock"]] += 1
        assert alert["qty"] < alert["safety_stock"] and alert["status"] == "open"
    low = {r["id"] for r in stock.values() if r["low_stock"]}
    assert low and low <= set(per_stock)
    assert max(per_stock.values()) == 1  # sales only go down: one crossing each
