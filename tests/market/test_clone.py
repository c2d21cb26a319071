"""Cloning a tenant with its data: the same lists and figures there, users mapped by name,
the source untouched by changes to the clone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builder.extensions import db
from builder.market.models import MarketInstall
from builder.platform import service as platform
from tests.market.packages import sales_app_v2, snapshot, v2_seed, write_package
from tests.runtime.records.helpers import create, patch, records_url

USER_FIELDS = ("sales_rep", "owner", "created_by", "updated_by")
FIGURES = {
    "east customers": ("customer", {"==": [{"var": "region"}, "east"]}),
    "won": ("opportunity", {"==": [{"var": "stage"}, "won"]}),
    "big": ("opportunity", {">=": [{"var": "amount"}, 100000]}),
}


def normalized(record: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """A record with user ids as usernames and files as names: comparable across tenants."""
    out = {}
    for key, value in record.items():
        if key in USER_FIELDS:
            out[key] = names.get(value)
        elif key == "logo":
            out[key] = [f["name"] for f in value]
        elif key == "lines":
            out[key] = [normalized(line, names) for line in value]
        else:
            out[key] = value
    return out


def listing(client, headers, tenant_id, entity, deleted="include"):
    names = {u.id: u.username for u in platform.list_users(tenant_id)}
    response = client.get(records_url(entity, "sales"), query_string={
        "sort": "id", "deleted": deleted, "limit": 200}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [normalized(r, names) for r in response.get_json()["items"]]


def figures(client, headers):
    result = {}
    for name, (entity, rule) in FIGURES.items():
        response = client.get(records_url(entity, "sales"), query_string={
            "filter": json.dumps(rule), "count": "true", "limit": 1}, headers=headers)
        result[name] = response.get_json()["total"]
    return result


def dashboard(client, headers):
    response = client.get("/api/apps/sales/dashboards/board", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def source(client, admin, admin_headers, market, make_user, tenant):
    """The acme tenant with sales_kit and demo data, a user approver chain, a deleted
    customer and a customer of carol's (a user the target does not have)."""
    rep = make_user(tenant, "rep", team="east")
    carol = make_user(tenant, "carol", roles=("sales_manager",))
    assert client.post("/api/market/sales_kit/install", json={"demo_data": True},
                       headers=admin_headers).status_code == 200
    draft = client.get("/api/apps/sales/draft", headers=admin_headers).get_json()["definition"]
    draft["approval_chains"] = [{
        "key": "big_deal", "title": {"zh-CN": "大单审批"}, "entity": "opportunity",
        "steps": [{"key": "boss", "approver": {"type": "user", "users": [rep.id, carol.id]}}]}]
    client.put("/api/apps/sales/draft", json={"definition": draft}, headers=admin_headers)
    assert client.post("/api/apps/sales/publish", headers=admin_headers).status_code == 200
    customers = client.get(records_url("customer", "sales"), query_string={"sort": "id"},
                           headers=admin_headers).get_json()["items"]
    assert patch(client, admin_headers, "customer", customers[0],
                 {"sales_rep": carol.id}, app="sales").status_code == 200
    assert client.delete(f"{records_url('customer', 'sales')}/{customers[2]['id']}",
                         headers=admin_headers).status_code == 200
    create(client, admin_headers, "opportunity", {
        "name": "三期", "customer": customers[1]["id"], "amount": 90000,
        "lines": [{"product": "软件", "qty": 1}]}, app="sales")
    return tenant


@pytest.fixture
def beta(make_tenant, make_user):
    target = make_tenant("beta", "Beta")
    make_user(target, "admin", is_tenant_admin=True)
    make_user(target, "rep")
    return target


def test_clone_with_data_gives_the_same_lists_and_figures(client, admin_headers, source, beta,
                                                          auth_headers):
    beta_admin = platform.get_user_by_username(beta, "admin")
    beta_headers = auth_headers(beta_admin)
    before = {e: listing(client, admin_headers, source.id, e) for e in ("customer",
                                                                        "opportunity")}
    source_figures = figures(client, admin_headers)
    source_dashboard = dashboard(client, admin_headers)
    assert source_dashboard["widgets"]
    db.session.commit()
    beta_before = snapshot(beta.id)

    dry = client.post("/api/admin/clone", json={"target": "beta", "with_data": True,
                                                "dry_run": True}, headers=admin_headers)
    assert dry.status_code == 200, dry.get_json()
    db.session.expire_all()
    assert snapshot(beta.id) == beta_before

    response = client.post("/api/admin/clone", json={"target": "beta", "with_data": True},
                           headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert {**dry.get_json(), "dry_run": False} == report
    assert report["operation"] == "clone" and report["target"] == "beta"
    assert report["records"] == {"sales.customer": 3, "sales.opportunity": 4}
    [carol] = report["unmapped_users"]
    assert carol["username"] == "carol"
    assert set(carol["places"]) == {
        "apps/sales.json#approval_chains.big_deal.steps.boss.approver.users[1]",
        "data/sales.json#sales.customer[0].sales_rep", "roles.sales_manager.members"}
    assert report["teams"]["created"] == ["east"]

    after = {e: listing(client, beta_headers, beta.id, e) for e in ("customer", "opportunity")}
    expected = {e: [dict(r, sales_rep=None) if r.get("sales_rep") == "carol" else r
                    for r in rows] for e, rows in before.items()}
    assert after == expected
    assert figures(client, beta_headers) == source_figures
    assert dashboard(client, beta_headers) == source_dashboard

    definition = client.get("/api/apps/sales", headers=beta_headers).get_json()["definition"]
    beta_rep = platform.get_user_by_username(beta, "rep")
    assert definition["approval_chains"][0]["steps"][0]["approver"]["users"] == [beta_rep.id]
    logo = after["customer"][1]["logo"]
    assert logo == ["logo.png"]
    file_id = client.get(records_url("customer", "sales"), query_string={"sort": "id"},
                         headers=beta_headers).get_json()["items"][1]["logo"][0]["id"]
    image = client.get(f"/api/files/{file_id}", headers=beta_headers)
    assert image.status_code == 200 and image.data[:4] == b"\x89PNG"
    image.close()
    history = client.get(f"{records_url('customer', 'sales')}/1/history",
                         headers=beta_headers).get_json()["items"]
    assert [h["action"] for h in history] == ["import"]

    # the clone lives on its own
    first = client.get(f"{records_url('customer', 'sales')}/1", headers=beta_headers).get_json()
    assert patch(client, beta_headers, "customer", first, {"name": "改名客户"},
                 app="sales").status_code == 200
    added = create(client, beta_headers, "customer", {"name": "新客户"}, app="sales")
    assert added["code"] == "KH-0004"  # the counters came along
    create(client, beta_headers, "opportunity", {"name": "克隆商机", "customer": added["id"],
                                                 "amount": 5000}, app="sales")
    assert dashboard(client, beta_headers) != source_dashboard
    assert dashboard(client, admin_headers) == source_dashboard
    assert {e: listing(client, admin_headers, source.id, e) for e in before} == before
    assert create(client, admin_headers, "customer", {"name": "源新客户"},
                  app="sales")["code"] == "KH-0004"

    # the clone can take the market's next version like the source
    installed = db.session.query(MarketInstall).filter_by(tenant_id=beta.id).one()
    assert installed.package == "sales_kit" and installed.version == "1.0.0"
    write_package(source_market(client), sales_app_v2(), version="1.1.0", seed=v2_seed())
    upgraded = client.post("/api/market/sales_kit/upgrade", json={}, headers=beta_headers)
    assert upgraded.status_code == 200, upgraded.get_json()
    assert upgraded.get_json()["records"] == {"sales.customer": 1}  # globex; acme is known


def source_market(client):
    return client.application.config["BUILDER"].market_dir / "sales_kit"


def test_clone_into_a_tenant_where_the_caller_is_not_admin_is_refused(client, admin_headers,
                                                                     source, make_tenant,
                                                                     make_user):
    other = make_tenant("other")
    make_user(other, "admin")  # same name, but not an admin there
    response = client.post("/api/admin/clone", json={"target": "other"}, headers=admin_headers)
    assert response.status_code == 403
    itself = client.post("/api/admin/clone", json={"target": "acme"}, headers=admin_headers)
    assert itself.status_code == 400


def test_clone_into_a_new_tenant_makes_the_caller_its_admin(client, admin_headers, source):
    refused = client.post("/api/admin/clone", json={"target": "gamma"}, headers=admin_headers)
    assert refused.status_code == 422  # the chain's approvers do not exist there
    assert [d["path"] for d in refused.get_json()["error"]["details"]] == [
        "apps/sales.json#approval_chains[0].steps[0].approver.users"]
    assert platform.get_tenant("gamma") is None

    draft = client.get("/api/apps/sales/draft", headers=admin_headers).get_json()["definition"]
    draft["approval_chains"][0]["steps"][0]["approver"] = {"type": "role",
                                                           "role": "sales_manager"}
    client.put("/api/apps/sales/draft", json={"definition": draft}, headers=admin_headers)
    assert client.post("/api/apps/sales/publish", headers=admin_headers).status_code == 200
    response = client.post("/api/admin/clone", json={"target": "gamma"}, headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["records"] == {}
    login = client.post("/api/auth/login", json={"tenant": "gamma", "username": "admin",
                                                 "password": "secret-pass"})
    assert login.status_code == 200
    token = login.get_json()["token"]
    apps = client.get("/api/apps", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [a["key"] for a in apps] == ["sales"]
