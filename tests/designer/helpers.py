"""Small definition builders and HTTP helpers for designer and storage tests."""

from __future__ import annotations

import copy
from typing import Any


def title(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh-CN": zh, "en": en or zh}


def items_app(*extra_fields: dict[str, Any]) -> dict[str, Any]:
    """An app with one entity ``item``: name (text), code (text), amount (number)."""
    fields = [
        {"key": "name", "type": "text", "title": title("名称", "Name")},
        {"key": "code", "type": "text", "title": title("编码", "Code")},
        {"key": "amount", "type": "number", "title": title("数量", "Amount")},
        *extra_fields,
    ]
    return {
        "format": 1, "key": "inventory", "version": "1.0.0", "title": title("库存", "Inventory"),
        "entities": [{"key": "item", "title": title("物品", "Item"), "fields": fields}],
    }


def with_fields(definition: dict[str, Any], fields: list[dict[str, Any]]) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    changed["entities"][0]["fields"] = fields
    return changed


def field_of(definition: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in definition["entities"][0]["fields"] if f["key"] == key)


def import_and_publish(client: Any, headers: dict[str, str], definition: dict[str, Any]) -> Any:
    response = client.post("/api/apps", json={"definition": definition}, headers=headers)
    assert response.status_code == 201, response.get_json()
    response = client.post(f"/api/apps/{definition['key']}/publish", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def publish_draft(client: Any, headers: dict[str, str], definition: dict[str, Any]) -> Any:
    response = client.put(f"/api/apps/{definition['key']}/draft",
                          json={"definition": definition}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return client.post(f"/api/apps/{definition['key']}/publish", headers=headers)
