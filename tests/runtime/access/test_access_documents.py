"""Exports, prints and imports follow the user's roles like lists and reads do."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.definitions import title
from tests.runtime.access.helpers import APP, Org, make_org, sales_app, url
from tests.runtime.records.helpers import problems, publish, upload

TEMPLATE = "<h1>{{ record.name }}</h1><p>成本：{{ record.cost }}</p><p>{{ raw.cost }}</p>"


@pytest.fixture
def org(client: Any, tenant: Any, admin_headers: Any, make_user: Any) -> Org:
    definition = sales_app()
    definition["entities"][0]["views"] = [{
        "key": "all", "title": title("全部", "All"), "columns": ["name", "amount", "cost"]}]
    definition["print_templates"] = [{"key": "sheet", "title": title("交易单", "Deal sheet"),
                                      "entity": "deal", "template": TEMPLATE}]
    rep_deal = definition["roles"][0]["permissions"][0]
    rep_deal["actions"] += ["export", "print", "import"]
    publish(client, admin_headers, definition)
    users = make_org(tenant, make_user)
    for user in (users.rep, users.outsider):  # owned by each, cost set by an engine
        with events.acting("test"):
            RecordService(entity_store(tenant.id, APP, "deal"), user).create(
                {"name": f"{user.username} deal", "amount": 100, "cost": 61})
    return users


def _sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.get_json()
    book = load_workbook(io.BytesIO(response.data))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_exports_hold_the_scope_and_no_hidden_column(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    export = f"/api/apps/{APP}/deal/export"
    rows = _sheet(client.get(export, headers=auth_headers(org.rep),
                             query_string={"view": "all"}))
    assert len(rows) == 2 and rows[1][0] == "rep deal"
    assert all("成本" not in str(cell) and cell != 61 for row in rows for cell in row)
    everything = _sheet(client.get(export, headers=auth_headers(org.auditor),
                                   query_string={"view": "all"}))
    assert sorted(row[0] for row in everything[1:]) == ["outsider deal", "rep deal"]
    assert [row[2] for row in everything[1:]] == [61, 61]
    assert client.get(export, headers=auth_headers(org.boss)).status_code == 403


def test_prints_show_only_readable_records_and_fields(
        client: Any, org: Org, admin_headers: Any, auth_headers: Any) -> None:
    listed = client.get(url(), headers=admin_headers).get_json()["items"]
    ids = {d["name"]: d["id"] for d in listed}
    rep = auth_headers(org.rep)
    page = client.get(url(record_id=ids["rep deal"], tail="/print/sheet"), headers=rep,
                      query_string={"format": "html"})
    assert page.status_code == 200
    assert "rep deal" in page.text and "61" not in page.text
    other = client.get(url(record_id=ids["outsider deal"], tail="/print/sheet"), headers=rep,
                       query_string={"format": "html"})
    assert other.status_code == 404
    finance = client.get(url(record_id=ids["outsider deal"], tail="/print/sheet"),
                         headers=auth_headers(org.auditor), query_string={"format": "html"})
    assert finance.status_code == 403  # finance may read, not print


def test_imports_need_the_import_action_and_write_as_the_user(
        client: Any, org: Org, auth_headers: Any, run_jobs: Any) -> None:
    book = Workbook()
    book.active.append(["名称", "成本"])
    book.active.append(["imported", 5])
    data = io.BytesIO()
    book.save(data)
    rep = auth_headers(org.rep)
    sheet = upload(client, rep, data.getvalue(), "deals.xlsx").get_json()
    start = f"/api/apps/{APP}/deal/imports"
    refused = client.post(start, headers=auth_headers(org.auditor), json={"file": sheet["id"]})
    assert refused.status_code == 403
    started = client.post(start, headers=rep, json={"file": sheet["id"]})
    assert started.status_code == 201, started.get_json()
    run = started.get_json()["id"]
    assert client.post(f"/api/imports/{run}/preview", headers=auth_headers(org.auditor),
                       json={"mapping": {"名称": "name"}}).status_code == 403
    assert "cost" not in [f["key"] for f in started.get_json()["fields"]]
    assert started.get_json()["suggested"] == {"名称": "name", "成本": None}
    for action in ("preview", "run"):
        refused = client.post(f"/api/imports/{run}/{action}", headers=rep,
                              json={"mapping": {"名称": "name", "成本": "cost"}})
        assert refused.status_code == 403 and problems(refused) == {"mapping.成本": "hidden"}
    launched = client.post(f"/api/imports/{run}/run", headers=rep,
                           json={"mapping": {"名称": "name"}})
    assert launched.status_code == 202, launched.get_json()
    run_jobs()
    done = client.get(f"/api/imports/{run}", headers=rep).get_json()
    assert done["status"] == "done" and done["imported"] == 1, done
    mine = client.get(url(), headers=rep).get_json()["items"]
    assert sorted(d["name"] for d in mine) == ["imported", "rep deal"]
    assert all(d["owner"] == org.rep.id for d in mine)
