"""The barcode field type: a scanned or typed code stored as text, found by search."""

from __future__ import annotations

from typing import Any

import pytest

from builder.schema.field_types import FieldValueError, field_type_registry
from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import create, publish, records_url


def test_codes_are_trimmed_text_and_numbers_keep_every_digit() -> None:
    barcode = field_type_registry.get("barcode")
    spec = {"key": "code", "type": "barcode"}
    assert barcode.parse(" 6901234567892 ", spec) == "6901234567892"
    assert barcode.parse(6901234567892, spec) == "6901234567892"
    assert barcode.parse("", spec) is None
    with pytest.raises(FieldValueError):
        barcode.parse("9" * 501, spec)


def test_a_barcode_field_is_unique_and_searchable(client: Any,
                                                  admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, minimal_app(entity("sku", "商品", "SKU", [
        field("name", "text", "名称", "Name"),
        field("code", "barcode", "条码", "Barcode", unique=True)])))
    create(client, admin_headers, "sku", {"name": "矿泉水", "code": "6901234567892"}, app="demo")
    again = client.post(records_url("sku", "demo"), headers=admin_headers,
                        json={"data": {"name": "重复", "code": "6901234567892"}})
    assert again.status_code == 422
    found = client.get(records_url("sku", "demo"), headers=admin_headers,
                       query_string={"q": "690123"}).get_json()
    assert [r["name"] for r in found["items"]] == ["矿泉水"]
    types = {t["type"]: t for t in client.get("/api/field-types", headers=admin_headers)
             .get_json()["items"]}
    assert types["barcode"]["title"] == {"zh-CN": "条码", "en": "Barcode"}
