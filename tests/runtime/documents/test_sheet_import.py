"""Spreadsheet import over HTTP: upload, automatic mapping of Chinese titles, preview, run
in the background; 5,000 leads with 17 bad rows in both modes."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from builder.extensions import db
from tests.definitions import entity, field, minimal_app, option
from tests.runtime.records.helpers import publish, records_url, upload

HEADERS = ["线索名称*", "联系电话", "预算（元）", "区域", "负责人", "所属客户", "下次跟进",
           "重点客户", "备注列"]
MAPPED = {"线索名称*": "name", "联系电话": "phone", "预算（元）": "budget", "区域": "region",
          "负责人": "rep", "所属客户": "customer", "下次跟进": "next_touch",
          "重点客户": "key_account", "备注列": None}


def _definition() -> dict[str, Any]:
    customer = entity("customer", "客户", "Customer", [
        field("name", "text", "客户名称", "Customer name", required=True, unique=True)],
        title_field="name")
    lead = entity("lead", "线索", "Lead", [
        field("name", "text", "线索名称", "Lead name", required=True),
        field("phone", "phone", "联系电话", "Phone", unique=True),
        field("budget", "money", "预算（元）", "Budget", min=0),
        field("region", "select", "区域", "Region", options=[
            option("east", "华东", "East"), option("north", "华北", "North"),
            option("south", "华南", "South")]),
        field("rep", "user", "负责人", "Sales rep"),
        field("customer", "relation", "所属客户", "Customer", entity="customer"),
        field("next_touch", "date", "下次跟进", "Next touch"),
        field("key_account", "boolean", "重点客户", "Key account"),
    ], title_field="name")
    definition = minimal_app(customer, lead)
    definition["key"] = "sales"
    return definition


BAD_ROWS = {  # data row index → (column title, bad value)
    7: ("线索名称*", None),
    100: ("预算（元）", "十万"),
    250: ("区域", "火星"),
    400: ("所属客户", "不存在的公司"),
    555: ("负责人", "nobody"),
    700: ("下次跟进", "明天"),
    901: ("预算（元）", -5),
    1200: ("联系电话", "13800000000"),  # the same phone as row index 0
    1500: ("重点客户", "也许"),
    1800: ("区域", "西北"),
    2100: ("所属客户", "不存在的公司二"),
    2600: ("线索名称*", "   "),
    3000: ("预算（元）", "1,000块"),
    3300: ("负责人", "王五"),
    3900: ("下次跟进", "2026-13-45"),
    4400: ("联系电话", "13800000001"),  # the same phone as row index 1
    4999: ("区域", "Mars"),
}


def _workbook(rows: int = 5000) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    regions = ["华东", "North", "south"]
    for index in range(rows):
        values: dict[str, Any] = {
            "线索名称*": f"线索{index:05d}", "联系电话": 13800000000 + index,
            "预算（元）": 10000 + index, "区域": regions[index % 3],
            "负责人": "张三" if index % 2 else "rep1",
            "所属客户": f"客户{index % 20}", "下次跟进": datetime(2026, 12, 1 + index % 28),
            "重点客户": "是" if index % 5 == 0 else "否", "备注列": "ignored"}
        if index in BAD_ROWS:
            column, value = BAD_ROWS[index]
            values[column] = value
        sheet.append([values[h] for h in HEADERS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def sales(client: Any, admin: Any, admin_headers: Any, make_user: Any) -> dict[str, Any]:
    publish(client, admin_headers, _definition())
    for username, name in (("rep1", "李四"), ("zhangsan", "张三")):
        make_user(admin.tenant, username).display_name = name
    db.session.commit()
    rows = [{"name": f"客户{i}"} for i in range(20)]
    response = client.post(f"{records_url('customer', 'sales')}/bulk", json={"rows": rows},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return {"headers": admin_headers}


def _start(client: Any, headers: dict[str, str], content: bytes,
           name: str = "线索.xlsx") -> dict[str, Any]:
    uploaded = upload(client, headers, content, name)
    assert uploaded.status_code == 201, uploaded.get_json()
    response = client.post("/api/apps/sales/lead/imports",
                           json={"file": uploaded.get_json()["id"]}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _count(client: Any, headers: dict[str, str]) -> int:
    response = client.get(records_url("lead", "sales"), query_string={"count": "true",
                                                                      "limit": 1},
                          headers=headers)
    return int(response.get_json()["total"])


def _run(client: Any, headers: dict[str, str], run: dict[str, Any], mode: str,
         run_jobs: Any) -> dict[str, Any]:
    response = client.post(f"/api/imports/{run['id']}/run",
                           json={"mapping": run["suggested"], "mode": mode}, headers=headers)
    assert response.status_code == 202, response.get_json()
    run_jobs()
    result = client.get(f"/api/imports/{run['id']}", headers=headers).get_json()
    assert result["status"] == "done", result
    return result  # type: ignore[no-any-return]


def test_chinese_titles_map_automatically_and_the_preview_stores_nothing(
        client: Any, sales: dict[str, Any]) -> None:
    headers = sales["headers"]
    run = _start(client, headers, _workbook(30))
    assert run["suggested"] == MAPPED
    assert run["total"] == 30 if "total" in run else run["progress"]["total"] == 30
    response = client.post(f"/api/imports/{run['id']}/preview",
                           json={"mapping": run["suggested"]}, headers=headers)
    assert response.status_code == 200, response.get_json()
    rows = response.get_json()["rows"]
    assert rows[0]["row"] == 2 and rows[0]["problems"] == []
    assert rows[0]["data"]["region"] == "east" and rows[0]["data"]["key_account"] is True
    assert rows[7]["data"] is None
    assert rows[7]["problems"][0]["column"] == "线索名称*"
    assert rows[7]["problems"][0]["row"] == 9 and rows[7]["problems"][0]["letter"] == "A"
    assert _count(client, headers) == 0


def test_skip_bad_imports_the_good_rows_and_reports_each_bad_one(
        client: Any, sales: dict[str, Any], run_jobs: Any) -> None:
    headers = sales["headers"]
    run = _start(client, headers, _workbook())
    result = _run(client, headers, run, "skip_bad", run_jobs)
    assert (result["imported"], result["failed"]) == (4983, 17)
    assert _count(client, headers) == 4983
    by_row = {p["row"]: p for p in result["problems"]}
    assert sorted(by_row) == sorted(index + 2 for index in BAD_ROWS)
    for index, (column, _) in BAD_ROWS.items():
        problem = by_row[index + 2]
        assert problem["column"] == column, problem
        assert problem["message"], problem
    assert result["progress"] == {"phase": "done", "done": 5000, "total": 5000}
    # the bad rows come back as a spreadsheet with a reason column
    errors = client.get(f"/api/files/{result['error_file']}", headers=headers)
    content = errors.data
    errors.close()
    book = load_workbook(io.BytesIO(content), read_only=True)
    lines = list(book.worksheets[0].iter_rows(values_only=True))
    assert lines[0][-1] == "错误原因" and len(lines) == 18
    assert lines[1][0] is None and lines[1][-1].startswith("线索名称*")  # row 9: no name
    assert lines[2][0] == "线索00100" and "预算" in lines[2][-1]
    # stored values: option by title, user by display name, relation by title, date, boolean
    listing = client.get(records_url("lead", "sales"), headers=headers, query_string={
        "filter": '{"==": [{"var": "name"}, "线索00005"]}'}).get_json()["items"][0]
    assert listing["region"] == "south" and listing["next_touch"] == "2026-12-06"
    assert listing["key_account"] is True and listing["budget"] == 10005
    assert listing["phone"] == "13800000005"


def test_all_or_nothing_stores_nothing_and_reports_every_bad_row(
        client: Any, sales: dict[str, Any], run_jobs: Any) -> None:
    headers = sales["headers"]
    run = _start(client, headers, _workbook())
    result = _run(client, headers, run, "all_or_nothing", run_jobs)
    assert (result["imported"], result["failed"]) == (0, 17)
    assert _count(client, headers) == 0
    assert sorted({p["row"] for p in result["problems"]}) == sorted(i + 2 for i in BAD_ROWS)


def test_all_or_nothing_without_bad_rows_stores_everything(
        client: Any, sales: dict[str, Any], run_jobs: Any) -> None:
    headers = sales["headers"]
    book = Workbook()
    sheet = book.active
    sheet.append(["Lead name", "Budget", "Region", "Next touch"])
    sheet.append(["A", 100, "华北", date(2026, 1, 2)])
    sheet.append(["B", 200.5, "east", "2026/01/03"])
    out = io.BytesIO()
    book.save(out)
    run = _start(client, headers, out.getvalue())
    assert run["suggested"] == {"Lead name": "name", "Budget": "budget", "Region": "region",
                                "Next touch": "next_touch"}
    result = _run(client, headers, run, "all_or_nothing", run_jobs)
    assert (result["imported"], result["failed"]) == (2, 0)
    assert _count(client, headers) == 2


def test_csv_in_gbk_and_bad_files_and_options(client: Any, sales: dict[str, Any],
                                              run_jobs: Any) -> None:
    headers = sales["headers"]
    csv_text = "线索名称,区域,预算（元）\n甲,华南,5\n乙,华东,6\n"
    run = _start(client, headers, csv_text.encode("gb18030"), "leads.csv")
    assert run["suggested"] == {"线索名称": "name", "区域": "region", "预算（元）": "budget"}
    result = _run(client, headers, run, "all_or_nothing", run_jobs)
    assert result["imported"] == 2
    # not a spreadsheet
    uploaded = upload(client, headers, b"PK\x03\x04garbage", "x.xlsx").get_json()
    response = client.post("/api/apps/sales/lead/imports", json={"file": uploaded["id"]},
                           headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["path"] == "file"
    # bad options are reported at their paths, in the user's language
    run = _start(client, headers, _workbook(3))
    response = client.post(f"/api/imports/{run['id']}/run", headers={
        **headers, "Accept-Language": "zh-CN"}, json={
        "mapping": {"nope": "name", "区域": "budgetx", "线索名称*": "name", "联系电话": "name"},
        "mode": "sometimes", "match": {"region": "name"}})
    assert response.status_code == 422
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    assert paths == {"mapping.nope", "mapping.区域", "mapping.联系电话", "mode", "match.region"}
    # a run goes once; another tenant cannot see it
    assert client.post(f"/api/imports/{run['id']}/run", json={"mapping": MAPPED},
                       headers=headers).status_code == 202
    assert client.post(f"/api/imports/{run['id']}/run", json={"mapping": MAPPED},
                       headers=headers).status_code == 409


def test_another_tenant_cannot_reach_an_import(client: Any, sales: dict[str, Any],
                                               make_tenant: Any, make_user: Any,
                                               auth_headers: Any) -> None:
    run = _start(client, sales["headers"], _workbook(3))
    other = make_tenant("other")
    intruder = make_user(other, "boss", is_tenant_admin=True)
    response = client.get(f"/api/imports/{run['id']}", headers=auth_headers(intruder))
    assert response.status_code == 404
