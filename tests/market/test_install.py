"""Installing a package: all-or-nothing, with seed and demo data, twice changes nothing."""

from __future__ import annotations

import pytest

from builder.extensions import db
from builder.market import seed as seed_module
from tests.market.packages import snapshot
from tests.runtime.records.helpers import records_url


def install(client, headers, **body):
    return client.post("/api/market/sales_kit/install", json=body, headers=headers)


def names(client, headers, entity, **query):
    response = client.get(records_url(entity, "sales"), query_string={"sort": "id", **query},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return [r["name"] for r in response.get_json()["items"]]


def test_install_with_demo_data(client, admin_headers, market, rep, tenant):
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["action"] == "install"
    assert [a["app"] for a in report["apps"]] == ["sales"]
    assert report["records"] == {"sales.customer": 3, "sales.opportunity": 3}
    assert report["roles"]["created"] == ["sales_manager"]
    assert report["unmapped_users"] == [{"username": "ghost", "count": 1, "places": [
        "data/demo.json#sales.customer[1].sales_rep"]}]
    assert report["steps"][-1]

    assert names(client, admin_headers, "customer") == ["示例客户", "华东制造", "南方零售"]
    customers = client.get(records_url("customer", "sales"), query_string={"sort": "id"},
                           headers=admin_headers).get_json()["items"]
    acme, huadong, nanfang = customers
    assert acme["code"] == "KH-0001"
    assert huadong["sales_rep"] == rep.id and nanfang["sales_rep"] is None
    assert huadong["partner"] == nanfang["id"] and nanfang["partner"] == huadong["id"]
    assert huadong["logo"][0]["content_type"] == "image/png"
    big = client.get(records_url("opportunity", "sales"), query_string={
        "filter": '{"==": [{"var": "name"}, "二期项目"]}'}, headers=admin_headers
    ).get_json()["items"][0]
    assert big["customer"] == huadong["id"]
    assert [(line["product"], line["qty"]) for line in big["lines"]] == [("传感器", 40),
                                                                        ("网关", 4)]
    history = client.get(f"{records_url('customer', 'sales')}/{acme['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert [h["action"] for h in history] == ["create"]

    listed = client.get("/api/market", headers=admin_headers).get_json()
    assert listed[0]["key"] == "sales_kit"
    assert listed[0]["installed"]["version"] == "1.0.0"
    assert listed[0]["installed"]["demo_data"] is True


def test_installing_twice_changes_nothing(client, admin_headers, market, rep, tenant):
    assert install(client, admin_headers, demo_data=True).status_code == 200
    db.session.commit()
    before = snapshot(tenant.id)
    again = install(client, admin_headers, demo_data=True)
    assert again.status_code == 200
    assert again.get_json()["action"] == "none"
    db.session.expire_all()
    assert snapshot(tenant.id) == before


def test_a_bad_demo_row_at_the_end_leaves_the_tenant_as_it_was(client, admin_headers,
                                                               market, tenant, rep):
    from tests.market.packages import DEMO, sales_app, write_package

    demo = {"sales": {**DEMO["sales"], "opportunity": [
        *DEMO["sales"]["opportunity"], {"name": "坏数据", "customer": {"$ref": "customer:acme"},
                                        "amount": -5}]}}
    write_package(market / "sales_kit", sales_app(), demo=demo)
    db.session.commit()
    before = snapshot(tenant.id)
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 422, response.get_json()
    assert {d["path"] for d in response.get_json()["error"]["details"]} == {
        "data/demo.json#sales.opportunity[3].amount"}
    db.session.expire_all()
    assert snapshot(tenant.id) == before


def test_a_failure_injected_halfway_leaves_the_tenant_as_it_was(client, admin_headers, market,
                                                                tenant, rep, monkeypatch):
    original = seed_module.SeedLoader._fill_deferred

    def failing(self):
        original(self)
        raise RuntimeError("injected")

    monkeypatch.setattr(seed_module.SeedLoader, "_fill_deferred", failing)
    db.session.commit()
    before = snapshot(tenant.id)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 500
    db.session.expire_all()
    assert snapshot(tenant.id) == before


def test_dry_run_reports_and_keeps_nothing(client, admin_headers, market, tenant, rep):
    db.session.commit()
    before = snapshot(tenant.id)
    dry = install(client, admin_headers, demo_data=True, dry_run=True)
    assert dry.status_code == 200, dry.get_json()
    db.session.expire_all()
    assert snapshot(tenant.id) == before
    real = install(client, admin_headers, demo_data=True)
    assert {**dry.get_json(), "dry_run": False} == real.get_json()


@pytest.mark.parametrize("who", ["rep", "anonymous"])
def test_only_tenant_admins_use_the_market(client, market, auth_headers, rep, who):
    headers = auth_headers(rep) if who == "rep" else {}
    assert client.get("/api/market", headers=headers).status_code in (401, 403)
    assert install(client, headers).status_code in (401, 403)


@pytest.mark.parametrize(("demo", "expected"), [
    ({"sales": {"nope": []}}, {"data/demo.json#sales.nope": "unknown_entity"}),
    ({"sales": {"line": [{"product": "x"}]}}, {"data/demo.json#sales.line": "child_entity"}),
    ({"shop": {"customer": []}}, {"data/demo.json#shop": "unknown_app"}),
    ({"sales": {"customer": [{"name": "甲", "partner": 5, "colour": "red",
                              "sales_rep": "rep", "region": {"$ref": "customer:acme"}}]}},
     {"data/demo.json#sales.customer[0].partner": "bad_ref",
      "data/demo.json#sales.customer[0].colour": "unknown_field",
      "data/demo.json#sales.customer[0].sales_rep": "bad_user",
      "data/demo.json#sales.customer[0].region": "marker_misplaced"}),
    ({"sales": {"customer": [{"name": "乙", "partner": {"$ref": "customer:nobody"}}]}},
     {"data/demo.json#sales.customer[0].partner": "unknown_ref"}),
    ({"sales": {"customer": [{"$key": "k", "name": "丙"}, {"$key": "k", "name": "丁"}]}},
     {"data/demo.json#sales.customer[1].$key": "bad_record_key"}),
])
def test_bad_demo_data_says_where(client, admin_headers, market, tenant, demo, expected):
    from tests.market.packages import sales_app, write_package

    write_package(market / "sales_kit", sales_app(), demo=demo)
    response = install(client, admin_headers, demo_data=True)
    assert response.status_code == 422, response.get_json()
    assert {d["path"]: d["code"] for d in response.get_json()["error"]["details"]} == expected
    assert client.get("/api/apps", headers=admin_headers).get_json() == []


def test_install_as_a_job_shows_progress_and_the_report(client, admin_headers, market, tenant,
                                                        rep, run_jobs):
    started = install(client, admin_headers, demo_data=True, background=True)
    assert started.status_code == 202, started.get_json()
    run_jobs()
    job = client.get(f"/api/jobs/{started.get_json()['job']}", headers=admin_headers)
    assert job.status_code == 200
    run = job.get_json()
    assert run["status"] == "finished", run
    assert run["progress"]["done"] == run["progress"]["total"] == 5
    assert run["result"]["action"] == "install"
    assert run["result"]["records"] == {"sales.customer": 3, "sales.opportunity": 3}
    assert names(client, admin_headers, "customer") == ["示例客户", "华东制造", "南方零售"]


def test_a_failing_job_keeps_nothing(client, admin_headers, market, tenant, run_jobs):
    from tests.market.packages import sales_app, write_package

    write_package(market / "sales_kit", sales_app(), demo={"sales": {"nope": []}})
    db.session.commit()
    before = snapshot(tenant.id)
    started = install(client, admin_headers, demo_data=True, background=True)
    # a worker runs it later (202); without Redis the tests run jobs in the caller (422)
    assert started.status_code in (202, 422)
    run_jobs()
    [run] = client.get("/api/jobs", headers=admin_headers).get_json()
    assert run["name"] == "market.install"
    assert run["status"] == "failed" and "nope" in run["error"]
    db.session.expire_all()
    assert snapshot(tenant.id) == before
