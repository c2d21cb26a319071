"""Uninstall keeps the data (a reinstall finds it again); purge drops it, after an export."""

from __future__ import annotations

import io

from builder.extensions import db
from builder.market.package import read_zip
from builder.runtime.workflow.stage_models import StageVisit
from tests.market.packages import snapshot
from tests.runtime.records.helpers import create, records_url


def post(client, headers, action, **body):
    return client.post(f"/api/market/sales_kit/{action}", json=body, headers=headers)


def customer_names(client, headers):
    response = client.get(records_url("customer", "sales"), query_string={"sort": "id"},
                          headers=headers)
    return response.status_code, [r["name"] for r in response.get_json().get("items", [])]


def test_uninstall_keeps_the_data_and_reinstall_finds_it(client, admin_headers, market,
                                                         tenant, rep):
    assert post(client, admin_headers, "install", demo_data=True).status_code == 200
    create(client, admin_headers, "customer", {"name": "自建客户"}, app="sales")
    _, names = customer_names(client, admin_headers)

    removed = post(client, admin_headers, "uninstall")
    assert removed.status_code == 200, removed.get_json()
    assert removed.get_json()["action"] == "uninstall"
    assert client.get("/api/apps", headers=admin_headers).get_json() == []
    assert customer_names(client, admin_headers)[0] == 404
    assert client.get("/api/apps/sales", headers=admin_headers).status_code == 404
    listed = client.get("/api/market", headers=admin_headers).get_json()[0]
    assert listed["installed"]["state"] == "uninstalled"
    tables = snapshot(tenant.id)["tables"]
    assert sum(len(rows) for rows in tables.values()) > 0  # the data is still there

    taken = client.post("/api/apps", json={"definition": {
        "format": 1, "key": "sales", "title": {"zh-CN": "另一个"}}}, headers=admin_headers)
    assert taken.status_code == 409  # the key stays with the kept data

    back = post(client, admin_headers, "install", demo_data=True)
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["action"] == "reinstall"
    assert back.get_json()["records"] == {}
    assert customer_names(client, admin_headers) == (200, names)


def visits(tenant_id):
    return db.session.query(StageVisit).filter_by(tenant_id=tenant_id).count()


def test_purge_drops_the_tables_after_an_export(client, admin_headers, market, tenant, rep):
    assert post(client, admin_headers, "install", demo_data=True).status_code == 200
    acme = client.get(records_url("customer", "sales"), headers=admin_headers
                      ).get_json()["items"][0]
    create(client, admin_headers, "opportunity", {"name": "新商机", "customer": acme["id"]},
           app="sales")
    assert visits(tenant.id) == 1  # the stage flow recorded where it started
    db.session.commit()
    empty_tables = set(snapshot(tenant.id)["tables"]) - {
        name for name in snapshot(tenant.id)["tables"] if "_e" in name or name.startswith("e")}

    dry = post(client, admin_headers, "uninstall", purge=True, dry_run=True)
    assert dry.status_code == 200 and dry.get_json()["action"] == "purge"
    assert customer_names(client, admin_headers)[0] == 200

    purged = post(client, admin_headers, "uninstall", purge=True, export=True)
    assert purged.status_code == 200, purged.get_json()
    report = purged.get_json()
    assert report["action"] == "purge"
    exported = client.get(f"/api/files/{report['export_file']['id']}", headers=admin_headers)
    assert exported.status_code == 200
    content = exported.data
    exported.close()
    package = read_zip(content)
    assert package.is_export and package.manifest["data"] == ["data/sales.json"]
    assert len(package.json("data/sales.json")["sales"]["customer"]) == 3
    assert len(package.json("data/sales.json")["sales"]["opportunity"]) == 4

    db.session.expire_all()
    after = snapshot(tenant.id)
    assert set(after["tables"]) == empty_tables  # only the tenant's system tables remain
    assert after["apps"] == [] and after["installs"] == [] and after["entity_tables"] == []
    assert visits(tenant.id) == 0  # what other parts kept about the app went with it
    assert client.get("/api/market", headers=admin_headers).get_json()[0]["installed"] is None

    fresh = post(client, admin_headers, "install")
    assert fresh.status_code == 200 and fresh.get_json()["action"] == "install"
    assert customer_names(client, admin_headers) == (200, ["示例客户"])
    code = client.get(records_url("customer", "sales"), headers=admin_headers
                      ).get_json()["items"][0]["code"]
    assert code == "KH-0001"  # counters started again with the purged app

    restored = client.post("/api/admin/import", headers=admin_headers, data={
        "file": (io.BytesIO(content), "sales.zip")},
        content_type="multipart/form-data")
    assert restored.status_code == 409  # the app exists again: an import never overwrites


def test_purging_an_uninstalled_package_can_still_export_its_data(client, admin_headers,
                                                                   market, tenant, rep):
    assert post(client, admin_headers, "install", demo_data=True).status_code == 200
    assert post(client, admin_headers, "uninstall").status_code == 200
    again = post(client, admin_headers, "uninstall")
    assert again.get_json()["action"] == "none"
    purged = post(client, admin_headers, "uninstall", purge=True, export=True)
    assert purged.status_code == 200, purged.get_json()
    exported = client.get(f"/api/files/{purged.get_json()['export_file']['id']}",
                          headers=admin_headers)
    content = exported.data
    exported.close()
    package = read_zip(content)
    assert len(package.json("data/sales.json")["sales"]["opportunity"]) == 3
    assert package.manifest["installed_from"][0]["package"] == "sales_kit"
