"""A store-sales install with the demo's master data (stores, assistants, SKUs, stock,
members) but no sales, and small steps the counter takes."""

from __future__ import annotations

from typing import Any

from tests.templates.store_sales.package import Installed, demo, install, url

MASTER = ("store", "assistant", "product", "sku", "stock", "member")


class Shop:
    def __init__(self, client: Any, headers: dict[str, str], installed: Installed) -> None:
        self.client, self.headers, self.installed = client, headers, installed
        self.skus = {s["$key"]: s for s in demo()["sku"]}

    def id(self, ref: str) -> int:
        return self.installed.id(ref)

    def barcode(self, sku: str) -> str:
        return str(self.skus[sku]["barcode"])

    def sell(self, store: str, *lines: tuple[str, int], language: str = "zh-CN",
             **extra: Any) -> Any:
        """A counter sale: the store's code and scanned barcodes."""
        data = {"store_code": store, "payment": "wechat",
                "lines": [{"barcode": self.barcode(sku), "qty": qty} for sku, qty in lines],
                **extra}
        return self.client.post(url("sales_order"), json={"data": data},
                                headers={**self.headers, "Accept-Language": language})

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        response = self.client.get(f"{url(entity)}/{record_id}", headers=self.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]

    def stock(self, store: str, sku: str) -> dict[str, Any]:
        return self.get("stock", self.id(f"stock:{store}_{sku}"))

    def set_stock(self, store: str, sku: str, qty: int, safety: int | None = None) -> None:
        record = self.stock(store, sku)
        data: dict[str, Any] = {"qty": qty}
        if safety is not None:
            data["safety_stock"] = safety
        response = self.client.patch(f"{url('stock')}/{record['id']}", headers=self.headers,
                                     json={"version": record["version"], "data": data})
        assert response.status_code == 200, response.get_json()

    def count(self, entity: str, where: Any = None) -> int:
        query: dict[str, Any] = {"count": "true", "limit": 1}
        if where is not None:
            import json

            query["filter"] = json.dumps(where)
        response = self.client.get(url(entity), headers=self.headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return int(response.get_json()["total"])


def open_shop(client: Any, headers: dict[str, str]) -> Shop:
    installed = install(client, headers, with_demo=False)
    data = demo()
    for entity in MASTER:
        installed.load(entity, data[entity])
    return Shop(client, headers, installed)
