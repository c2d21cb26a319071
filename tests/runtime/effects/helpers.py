"""A small shop app for the effects tests: stock per store and SKU, orders with lines."""

from __future__ import annotations

from typing import Any

from tests.definitions import entity, field, minimal_app, option, title

APP = "shop"


def shop_app(**extra: Any) -> dict[str, Any]:
    """Stores (with a back-order flag), SKUs, stock (qty, safety level, low flag), orders
    whose lines take stock, returns that give it back, and stock alerts."""
    definition = minimal_app(
        entity("store", "门店", "Store", [
            field("name", "text", "名称", "Name", required=True),
            field("allow_backorder", "boolean", "允许负库存", "Back orders", default=False),
        ], title_field="name"),
        entity("sku", "商品", "SKU", [
            field("barcode", "text", "条码", "Barcode", required=True, unique=True),
        ], title_field="barcode"),
        entity("stock", "库存", "Stock", [
            field("store", "relation", "门店", "Store", entity="store", required=True),
            field("sku", "relation", "商品", "SKU", entity="sku", required=True),
            field("qty", "number", "数量", "Quantity", default=0),
            field("safety", "number", "安全库存", "Safety stock", default=0),
            field("low", "boolean", "低库存", "Low", default=False),
        ]),
        entity("order", "订单", "Order", [
            field("store", "relation", "门店", "Store", entity="store", required=True),
            field("status", "select", "状态", "Status", default="done", options=[
                option("done", "已完成", "Done"), option("void", "已作废", "Void")]),
            field("lines", "subtable", "明细", "Lines", entity="order_line"),
        ]),
        entity("order_line", "订单明细", "Order line", [
            field("sku", "relation", "商品", "SKU", entity="sku", required=True),
            field("qty", "number", "数量", "Quantity", required=True, min=1),
        ]),
        entity("stock_return", "退货", "Return", [
            field("stock", "relation", "库存", "Stock", entity="stock", required=True),
            field("qty", "number", "数量", "Quantity", required=True, min=1),
        ]),
        entity("alert", "库存预警", "Stock alert", [
            field("stock", "relation", "库存", "Stock", entity="stock"),
            field("qty", "number", "数量", "Quantity"),
            field("note", "text", "说明", "Note"),
        ]),
        key=APP,
        effects=[
            {"key": "sale", "title": title("销售扣库存", "Sales take stock"),
             "entity": "order_line",
             "when": {"==": [{"var": "$parent.status"}, "done"]},
             "target": {"entity": "stock", "match": {"sku": {"var": "sku"},
                                                     "store": {"var": "$parent.store"}}},
             "field": "qty", "delta": {"-": [{"var": "qty"}]}, "min": 0,
             "override": "store.allow_backorder"},
            {"key": "returned", "title": title("退货回库存", "Returns give stock back"),
             "entity": "stock_return", "target": {"relation": "stock"},
             "field": "qty", "delta": {"var": "qty"}},
        ],
        thresholds=[
            {"key": "low_stock", "title": title("低于安全库存", "Below safety stock"),
             "entity": "stock", "field": "qty", "below": {"var": "safety"}, "flag": "low",
             "alert": {"entity": "alert", "set": {
                 "stock": {"var": "id"}, "qty": {"var": "qty"},
                 "note": {"cat": ["was ", {"var": "$old.qty"}]}}}},
        ],
    )
    definition.update(extra)
    return definition
