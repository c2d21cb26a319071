"""The store-sales market package as the tests install it: through the market
(``POST /api/market/store_sales/install``), with or without its demo data; more data in
the package format (``$key`` names a record, ``{"$ref": "entity:key"}`` points at one,
sub-table rows inline) can be posted through the records API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from tests.runtime.records.helpers import records_url

PACKAGE = Path(__file__).resolve().parents[3] / "templates_market" / "store_sales"
APP = "store_sales"
BULK = 1000
#: the unique fields that find a demo record again after the market installed it
NATURAL_KEYS = {"store": ("code",), "assistant": ("code",), "product": ("code",),
                "sku": ("barcode",), "member": ("phone",), "stock": ("store", "sku")}


@cache
def _read(name: str) -> str:
    return (PACKAGE / name).read_text(encoding="utf-8")


def manifest() -> dict[str, Any]:
    return json.loads(_read("manifest.json"))  # type: ignore[no-any-return]


def definition() -> dict[str, Any]:
    [path] = manifest()["apps"]
    return json.loads(_read(path))  # type: ignore[no-any-return]


def demo() -> dict[str, list[dict[str, Any]]]:
    [path] = manifest()["demo"]
    return json.loads(_read(path))[APP]  # type: ignore[no-any-return]


def subtables(entity: str) -> dict[str, str]:
    """The sub-table fields of an entity of the package's app, with their row entity."""
    for item in definition()["entities"]:
        if item["key"] == entity:
            return {f["key"]: f["entity"] for f in item["fields"] if f["type"] == "subtable"}
    return {}


def url(entity: str) -> str:
    return records_url(entity, APP)


class Installed:
    """What an install created: record ids by package key (``store:sh01``)."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.ids: dict[str, int] = {}
        self.report: dict[str, Any] = {}

    def id(self, ref: str) -> int:
        """The id of a package record (``store:sh01``), found by its natural key."""
        if ref not in self.ids:
            entity, key = ref.split(":", 1)
            given = next(r for r in demo()[entity] if r.get("$key") == key)
            where = {"and": [{"==": [{"var": name}, self._value(given[name])]}
                             for name in NATURAL_KEYS[entity]]}
            response = self.client.get(url(entity), headers=self.headers,
                                       query_string={"filter": json.dumps(where)})
            [found] = response.get_json()["items"]
            self.ids[ref] = int(found["id"])
        return self.ids[ref]

    def _value(self, value: Any) -> Any:
        if isinstance(value, Mapping) and set(value) == {"$ref"}:
            return self.id(value["$ref"])
        if isinstance(value, list):
            return [self._row(v) if isinstance(v, Mapping) else v for v in value]
        return value

    def _row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._value(v) for k, v in record.items() if k != "$key"}

    def _remember(self, entity: str, given: Mapping[str, Any],
                  stored: Mapping[str, Any]) -> None:
        if "$key" in given:
            self.ids[f"{entity}:{given['$key']}"] = int(stored["id"])
        for key, child in subtables(entity).items():
            for row, stored_row in zip(given.get(key) or [], stored.get(key) or [],
                                       strict=True):
                self._remember(child, row, stored_row)

    def load(self, entity: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create records through the bulk API, all or nothing per request."""
        created: list[dict[str, Any]] = []
        for start in range(0, len(records), BULK):
            batch = records[start:start + BULK]
            response = self.client.post(f"{url(entity)}/bulk", headers=self.headers,
                                        json={"rows": [self._row(r) for r in batch]})
            assert response.status_code == 201, (entity, response.get_json())
            items = response.get_json()["items"]
            for given, stored in zip(batch, items, strict=True):
                self._remember(entity, given, stored)
            created += items
        return created


def install(client: Any, headers: dict[str, str], with_demo: bool = True) -> Installed:
    """Install the package from the market, with its demo data or without."""
    response = client.post(f"/api/market/{manifest()['key']}/install", headers=headers,
                           json={"demo_data": with_demo})
    assert response.status_code == 200, response.get_json()
    installed = Installed(client, headers)
    installed.report = response.get_json()
    return installed
