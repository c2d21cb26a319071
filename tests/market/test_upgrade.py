"""Upgrading keeps the tenant's own changes: a three-way merge with a conflict report."""

from __future__ import annotations

from builder.extensions import db
from builder.market.models import MarketInstall
from tests.market.packages import sales_app_v2, snapshot, v2_seed, write_package
from tests.runtime.records.helpers import create, records_url


def _by_key(items):
    return {item["key"]: item for item in items}


def customise(client, headers):
    """The tenant adds two fields, renames the won stage and retitles the proposal stage."""
    draft = client.get("/api/apps/sales/draft", headers=headers).get_json()["definition"]
    entities = _by_key(draft["entities"])
    entities["customer"]["fields"].append(
        {"key": "wechat", "type": "text", "title": {"zh-CN": "微信", "en": "WeChat"}})
    entities["customer"]["views"][0]["columns"].append("wechat")
    entities["opportunity"]["fields"].append(
        {"key": "competitor", "type": "text", "title": {"zh-CN": "竞争对手"}})
    stages = _by_key(draft["stage_flows"][0]["stages"])
    stages["won"]["title"] = {"zh-CN": "签约", "en": "Signed"}
    stages["proposal"]["title"] = {"zh-CN": "报价中", "en": "Proposal"}
    options = _by_key(_by_key(entities["opportunity"]["fields"])["stage"]["options"])
    options["won"]["title"] = {"zh-CN": "签约", "en": "Signed"}
    assert client.put("/api/apps/sales/draft", json={"definition": draft},
                      headers=headers).status_code == 200
    assert client.post("/api/apps/sales/publish", headers=headers).status_code == 200


def upgrade(client, headers, **body):
    return client.post("/api/market/sales_kit/upgrade", json=body, headers=headers)


def test_upgrade_keeps_the_tenants_changes_and_reports_the_conflict(client, admin_headers,
                                                                    market, rep, tenant):
    assert client.post("/api/market/sales_kit/install", json={"demo_data": True},
                       headers=admin_headers).status_code == 200
    customise(client, admin_headers)
    mine = create(client, admin_headers, "customer", {"name": "自建客户", "wechat": "wx-1"},
                  app="sales")
    write_package(market / "sales_kit", sales_app_v2(), version="1.1.0", seed=v2_seed())
    db.session.commit()
    before = snapshot(tenant.id)

    dry = upgrade(client, admin_headers, dry_run=True)
    assert dry.status_code == 200, dry.get_json()
    db.session.expire_all()
    assert snapshot(tenant.id) == before

    real = upgrade(client, admin_headers)
    assert real.status_code == 200, real.get_json()
    assert {**dry.get_json(), "dry_run": False} == real.get_json()
    report = real.get_json()
    assert report["action"] == "upgrade"
    [sales] = report["apps"]
    assert sales["action"] == "upgrade"
    assert any(step["action"] == "add_field" and step["field"] == "source"
               for step in sales["storage"])
    assert [(c["path"], c["ours"], c["theirs"]) for c in report["conflicts"]] == [
        ("stage_flows.funnel.stages.proposal.title.zh-CN", "报价中", "方案与报价")]
    assert report["records"] == {"sales.customer": 1}

    definition = client.get("/api/apps/sales", headers=admin_headers).get_json()["definition"]
    assert definition["version"] == "1.1.0"
    entities = _by_key(definition["entities"])
    customer_fields = _by_key(entities["customer"]["fields"])
    assert {"wechat", "source"} <= set(customer_fields)
    assert "competitor" in _by_key(entities["opportunity"]["fields"])
    # what the package added goes after its predecessor in the package
    assert entities["customer"]["views"][0]["columns"] == ["code", "name", "region", "source",
                                                           "wechat"]
    stages = definition["stage_flows"][0]["stages"]
    assert [s["key"] for s in stages] == ["lead", "proposal", "negotiation", "won", "lost"]
    titles = {s["key"]: s["title"] for s in stages}
    assert titles["won"] == {"zh-CN": "签约", "en": "Signed"}
    assert titles["proposal"] == {"zh-CN": "报价中", "en": "Proposal and quote"}
    options = _by_key(_by_key(entities["opportunity"]["fields"])["stage"]["options"])
    assert options["won"]["title"]["zh-CN"] == "签约" and "negotiation" in options

    kept = client.get(f"{records_url('customer', 'sales')}/{mine['id']}",
                      headers=admin_headers).get_json()
    assert kept["wechat"] == "wx-1" and kept["source"] is None
    names = [r["name"] for r in client.get(records_url("customer", "sales"), query_string={
        "sort": "id"}, headers=admin_headers).get_json()["items"]]
    assert names == ["示例客户", "华东制造", "南方零售", "自建客户", "环球集团"]

    row = db.session.query(MarketInstall).one()
    assert row.version == "1.1.0" and row.base["sales"]["version"] == "1.1.0"
    assert row.conflicts == report["conflicts"]
    listed = client.get("/api/market", headers=admin_headers).get_json()[0]
    assert listed["installed"]["version"] == "1.1.0" and not listed["upgrade_available"]

    again = upgrade(client, admin_headers)
    assert again.status_code == 200 and again.get_json()["action"] == "none"


def test_upgrade_refuses_a_pending_draft_and_a_downgrade(client, admin_headers, market,
                                                         tenant):
    assert client.post("/api/market/sales_kit/install", json={},
                       headers=admin_headers).status_code == 200
    draft = client.get("/api/apps/sales/draft", headers=admin_headers).get_json()["definition"]
    draft["title"] = {"zh-CN": "销售（草稿）"}
    client.put("/api/apps/sales/draft", json={"definition": draft}, headers=admin_headers)
    write_package(market / "sales_kit", sales_app_v2(), version="1.1.0", seed=v2_seed())
    refused = upgrade(client, admin_headers)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"][0]["path"] == "apps.sales"
    assert client.post("/api/apps/sales/publish", headers=admin_headers).status_code == 200
    assert upgrade(client, admin_headers).status_code == 200

    write_package(market / "sales_kit", sales_app_v2(), version="1.0.5")
    downgrade = upgrade(client, admin_headers)
    assert downgrade.status_code == 409
    assert downgrade.get_json()["error"]["details"][0]["code"] == "downgrade"


def test_a_merge_that_breaks_the_definition_changes_nothing(client, admin_headers, market,
                                                            tenant):
    assert client.post("/api/market/sales_kit/install", json={},
                       headers=admin_headers).status_code == 200
    draft = client.get("/api/apps/sales/draft", headers=admin_headers).get_json()["definition"]
    customer = _by_key(draft["entities"])["customer"]
    customer["fields"] = [f for f in customer["fields"] if f["key"] != "region"]
    customer["views"][0]["columns"].remove("region")
    client.put("/api/apps/sales/draft", json={"definition": draft}, headers=admin_headers)
    assert client.post("/api/apps/sales/publish", headers=admin_headers).status_code == 200
    v2 = sales_app_v2()
    _by_key(v2["entities"])["customer"]["views"][0]["columns"].append("region")
    v2["metrics"].append({"key": "by_region", "title": {"zh-CN": "按区域"},
                          "entity": "customer", "aggregate": "distinct_count",
                          "field": "region"})
    write_package(market / "sales_kit", v2, version="1.1.0", seed=v2_seed())
    db.session.commit()
    before = snapshot(tenant.id)
    response = upgrade(client, admin_headers)
    assert response.status_code == 422, response.get_json()
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    assert any(p.startswith("apps.sales.metrics") for p in paths), paths
    db.session.expire_all()
    assert snapshot(tenant.id) == before
