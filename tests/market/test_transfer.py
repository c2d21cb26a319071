"""Export a tenant's apps as a package file and import it into another tenant over HTTP."""

from __future__ import annotations

import io

from builder.extensions import db
from builder.market import catalog
from builder.market.package import read_folder, read_zip, to_zip
from builder.platform import service as platform
from tests.market.packages import snapshot


def upload(client, headers, content, **query):
    return client.post("/api/admin/import", query_string=query, headers=headers,
                       data={"file": (io.BytesIO(content), "package.zip")},
                       content_type="multipart/form-data")


def test_export_an_app_and_import_it_elsewhere(client, admin_headers, market, tenant,
                                               make_tenant, make_user, auth_headers):
    assert client.post("/api/market/sales_kit/install", json={},
                       headers=admin_headers).status_code == 200
    response = client.get("/api/admin/export", query_string={"apps": "sales"},
                          headers=admin_headers)
    assert response.status_code == 200
    assert 'filename="sales-1.0.0.zip"' in response.headers["Content-Disposition"]
    package = read_zip(response.data)
    assert package.is_export and package.key == "sales"
    assert package.manifest["apps"] == ["apps/sales.json"] and package.manifest["data"] == []
    assert [r["key"] for r in package.manifest["roles"]] == ["sales_manager"]
    [origin] = package.manifest["installed_from"]
    assert (origin["package"], origin["version"]) == ("sales_kit", "1.0.0")

    beta = make_tenant("beta")
    beta_headers = auth_headers(make_user(beta, "boss", is_tenant_admin=True))
    db.session.commit()
    before = snapshot(beta.id)
    dry = upload(client, beta_headers, response.data, dry_run="true")
    assert dry.status_code == 200, dry.get_json()
    assert dry.get_json()["action"] == "import" and dry.get_json()["dry_run"] is True
    db.session.expire_all()
    assert snapshot(beta.id) == before

    real = upload(client, beta_headers, response.data)
    assert real.status_code == 200, real.get_json()
    assert real.get_json()["packages"] == [{"package": "sales_kit", "version": "1.0.0"}]
    assert [a["key"] for a in client.get("/api/apps", headers=beta_headers).get_json()] == [
        "sales"]
    assert catalog.find_install(beta.id, "sales_kit").base["sales"]["key"] == "sales"
    assert platform.get_role(beta.id, "sales_manager") is not None
    listed = client.get("/api/market", headers=beta_headers).get_json()
    assert listed[0]["installed"]["version"] == "1.0.0"

    again = upload(client, beta_headers, response.data)
    assert again.status_code == 409
    assert again.get_json()["error"]["details"][0]["path"] == "apps.sales"


def test_a_market_package_file_installs_through_import(client, admin_headers, market, tenant):
    content = to_zip(read_folder(market / "sales_kit"))
    response = upload(client, admin_headers, content, with_data="false")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["action"] == "install"
    assert catalog.find_install(tenant.id, "sales_kit").demo_data is False


def test_bad_files_and_unknown_packages_are_clear_errors(client, admin_headers, market):
    bad = upload(client, admin_headers, b"PK not really")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"][0]["code"] == "not_a_zip"
    missing = client.post("/api/market/nothing/install", json={}, headers=admin_headers)
    assert missing.status_code == 404
    unknown = client.get("/api/admin/export", query_string={"apps": "nope"},
                         headers=admin_headers)
    assert unknown.status_code == 404
    shot = client.get("/api/market/sales_kit/screenshots/screenshots/list.png",
                      headers=admin_headers)
    assert shot.status_code == 200 and shot.mimetype == "image/png"
    assert client.get("/api/market/sales_kit/screenshots/app.json",
                      headers=admin_headers).status_code == 404
