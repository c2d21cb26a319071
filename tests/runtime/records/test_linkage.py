"""Relations from what people have at hand: a unique key, a scanned code, copied values;
and a unique clash that names the record holding the value."""

from __future__ import annotations

from typing import Any

import pytest

from builder.schema import check_definition
from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import create, problems, publish, records_url

APP = "counter"


def counter_app() -> dict[str, Any]:
    return minimal_app(
        entity("store", "门店", "Store", [
            field("code", "text", "门店编码", "Code", unique=True, required=True),
            field("region", "text", "区域", "Region"),
        ], title_field="code"),
        entity("sku", "商品", "SKU", [
            field("barcode", "text", "条码", "Barcode", unique=True, required=True),
            field("name", "text", "品名", "Name", required=True),
            field("price", "money", "售价", "Price"),
        ], title_field="name"),
        entity("member", "会员", "Member", [
            field("phone", "phone", "手机号", "Phone", unique=True, required=True),
            field("name", "text", "姓名", "Name"),
        ], title_field="name"),
        entity("sale", "销售单", "Sale", [
            field("store", "relation", "门店", "Store", entity="store",
                  fill={"region": "region"}),
            field("region", "text", "区域", "Region"),
            field("status", "text", "状态", "Status", default="done"),
            field("member_phone", "phone", "会员手机", "Member phone"),
            field("member", "relation", "会员", "Member", entity="member",
                  lookup={"field": "phone", "from": "member_phone"}),
            field("lines", "subtable", "明细", "Lines", entity="sale_line",
                  inherit={"store": "store", "status": "status"}),
        ]),
        entity("sale_line", "明细", "Line", [
            field("barcode", "text", "条码", "Barcode"),
            field("sku", "relation", "商品", "SKU", entity="sku", required=True,
                  lookup={"field": "barcode", "from": "barcode"},
                  fill={"unit_price": "price", "barcode": "barcode"}),
            field("unit_price", "money", "单价", "Unit price", required=True),
            field("qty", "number", "数量", "Qty", default=1),
            field("store", "relation", "门店", "Store", entity="store"),
            field("status", "text", "状态", "Status", readonly_when=True),
        ]),
        entity("shelf", "货架", "Shelf", [
            field("store", "relation", "门店", "Store", entity="store", required=True),
            field("sku", "relation", "商品", "SKU", entity="sku", required=True),
            field("place", "formula", "位置", "Place", result_type="text", unique=True,
                  expression={"cat": [{"var": "store"}, "-", {"var": "sku"}]}),
        ]),
        key=APP)


@pytest.fixture
def counter(client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    publish(client, admin_headers, counter_app())
    store = create(client, admin_headers, "store", {"code": "SH01", "region": "east"}, app=APP)
    cola = create(client, admin_headers, "sku", {"barcode": "6901234567892", "name": "可乐",
                                                 "price": 3.5}, app=APP)
    member = create(client, admin_headers, "member", {"phone": "13800138000", "name": "王芳"},
                    app=APP)
    return {"store": store, "cola": cola, "member": member}


def test_scanned_codes_and_phones_find_their_records(client: Any, admin_headers: Any,
                                                     counter: dict[str, Any]) -> None:
    sale = create(client, admin_headers, "sale", {
        "store": {"code": "SH01"}, "member_phone": "13800138000",
        "lines": [{"barcode": "6901234567892", "qty": 2},
                  {"sku": counter["cola"]["id"], "unit_price": 3}]}, app=APP)
    assert sale["store"] == counter["store"]["id"] and sale["region"] == "east"
    assert sale["member"] == counter["member"]["id"]
    first, second = sale["lines"]
    assert (first["sku"], first["unit_price"]) == (counter["cola"]["id"], 3.5)
    assert (second["barcode"], second["unit_price"]) == ("6901234567892", 3)


def test_unknown_codes_are_problems_where_they_were_given(client: Any, admin_headers: Any,
                                                          counter: dict[str, Any]) -> None:
    response = client.post(records_url("sale", APP), headers=admin_headers, json={"data": {
        "store": {"code": "BJ09"}, "member_phone": "13900000000",
        "lines": [{"barcode": "0000"}]}})
    assert response.status_code == 422
    assert problems(response) == {"store": "reference_not_found",
                                  "member_phone": "not_found",
                                  "lines[0].barcode": "not_found",
                                  "lines[0].sku": "required",
                                  "lines[0].unit_price": "required"}
    response = client.post(records_url("sale", APP), headers=admin_headers,
                           json={"data": {"store": {"region": "east"}}})
    assert problems(response) == {"store": "reference_key"}


def test_a_duplicate_phone_names_the_member_holding_it(client: Any, admin_headers: Any,
                                                       counter: dict[str, Any]) -> None:
    response = client.post(records_url("member", APP), json={"data": {
        "phone": "13800138000", "name": "另一个人"}},
        headers={**admin_headers, "Accept-Language": "en"})
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert (problem["path"], problem["code"]) == ("phone", "unique")
    assert problem["record"] == counter["member"]["id"]
    assert "王芳" in problem["message"]


def test_lookup_and_fill_are_linked(client: Any) -> None:
    app = counter_app()
    line = app["entities"][4]["fields"][1]
    line["lookup"] = {"field": "name", "from": "nothing"}
    line["fill"] = {"qty": "stock", "lines": "price"}
    app["entities"][3]["fields"][5]["inherit"] = {"amount": "store", "qty": "lines"}
    _, found = check_definition(app)
    paths = {p.path: p.code for p in found}
    assert paths == {
        "entities[3].fields[5].inherit.amount": "unknown_field",
        "entities[3].fields[5].inherit.qty": "unknown_field",
        "entities[4].fields[1].lookup.field": "lookup_not_unique",
        "entities[4].fields[1].lookup.from": "unknown_field",
        "entities[4].fields[1].fill.qty": "unknown_field",
        "entities[4].fields[1].fill.lines": "unknown_field"}


def test_rows_inherit_fields_of_their_record(client: Any, admin_headers: Any,
                                             counter: dict[str, Any]) -> None:
    other = create(client, admin_headers, "store", {"code": "SH02"}, app=APP)
    sale = create(client, admin_headers, "sale", {
        "store": counter["store"]["id"],
        "lines": [{"barcode": "6901234567892", "store": other["id"], "status": "x"}]},
        app=APP)
    assert (sale["lines"][0]["store"], sale["lines"][0]["status"]) == (
        counter["store"]["id"], "done")
    response = client.patch(f"{records_url('sale', APP)}/{sale['id']}", headers=admin_headers,
                            json={"version": sale["version"],
                                  "data": {"store": other["id"], "status": "void"}})
    assert response.status_code == 200, response.get_json()
    line = response.get_json()["lines"][0]
    assert (line["store"], line["status"], line["id"]) == (
        other["id"], "void", sale["lines"][0]["id"])


def test_a_unique_formula_is_a_composite_key(client: Any, admin_headers: Any,
                                             counter: dict[str, Any]) -> None:
    shelf = {"store": counter["store"]["id"], "sku": counter["cola"]["id"]}
    first = create(client, admin_headers, "shelf", shelf, app=APP)
    response = client.post(records_url("shelf", APP), headers=admin_headers,
                           json={"data": shelf})
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert (problem["path"], problem["code"], problem["record"]) == (
        "place", "unique", first["id"])
