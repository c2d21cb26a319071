"""Rollup fields and ``$rel`` lookups, driven over the records API."""

from __future__ import annotations

from typing import Any

from builder import clock
from tests.definitions import entity, field, minimal_app, option
from tests.runtime.records.helpers import create, patch, problems, publish, records_url

APP = "deals"


def definition() -> dict[str, Any]:
    customer = entity("customer", "客户", "Customer", [
        field("name", "text", "名称", "Name", required=True),
        field("tier", "select", "等级", "Tier", options=[option("key", "重点"),
                                                        option("normal", "普通")]),
        field("contracts", "rollup", "签约合同数", "Signed contracts", entity="contract",
              aggregate="count", match={"customer": "id"},
              filter={"==": [{"var": "status"}, "signed"]}),
        field("first_signed", "rollup", "首次签约", "First signed", entity="contract",
              aggregate="min", field="signed_date", result_type="date",
              match={"customer": "id"}, filter={"==": [{"var": "status"}, "signed"]}),
        field("repeat_buyer", "formula", "复购客户", "Repeat buyer", result_type="boolean",
              expression={">=": [{"var": "contracts"}, 2]}),
    ])
    contract = entity("contract", "合同", "Contract", [
        field("customer", "relation", "客户", "Customer", entity="customer", required=True),
        field("amount", "money", "金额", "Amount"),
        field("status", "select", "状态", "Status", options=[option("draft", "草稿"),
                                                            option("signed", "已签")]),
        field("signed_date", "date", "签约日期", "Signed on"),
        field("customer_tier", "formula", "客户等级", "Customer tier", result_type="text",
              expression={"var": "$rel.customer.tier"}),
    ], validations=[{"key": "key_accounts_only_big",
                     "rule": {"or": [{"!=": [{"var": "$rel.customer.tier"}, "key"]},
                                     {">=": [{"var": "amount"}, 1000]}]},
                     "message": {"zh-CN": "重点客户合同不低于 1000 元"}, "fields": ["amount"]}])
    target = entity("target", "目标", "Target", [
        field("rep", "user", "销售", "Rep", required=True),
        field("start", "date", "开始", "Start", required=True),
        field("end", "formula", "结束", "End", result_type="date",
              expression={"date_add": [{"date_add": [{"var": "start"}, 3, "month"]}, -1, "day"]}),
        field("amount", "money", "目标", "Target"),
        field("signed", "rollup", "签约额", "Signed", entity="contract", aggregate="sum",
              field="amount", match={"owner": "rep"},
              filter={"and": [{"==": [{"var": "status"}, "signed"]},
                              {">=": [{"var": "signed_date"}, {"var": "$this.start"}]},
                              {"<=": [{"var": "signed_date"}, {"var": "$this.end"}]}]}),
        field("achievement", "formula", "达成率", "Achievement", precision=4,
              expression={"/": [{"var": "signed"}, {"var": "amount"}]}),
    ])
    note = entity("note", "需求", "Need", [
        field("scenario", "select", "场景", "Scenario", options=[option("cost", "成本"),
                                                               option("delivery", "交付")]),
        field("same_week", "rollup", "本周同场景", "Same scenario this week", entity="note",
              aggregate="count", match={"scenario": "scenario"},
              filter={">=": [{"var": "created_at"},
                             {"date_add": [{"var": "$now"}, -7, "day"]}]}),
    ])
    return minimal_app(customer, contract, target, note, key=APP)


def test_rollups_follow_the_records_they_summarise(client: Any, admin: Any,
                                                   admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition())
    acme = create(client, admin_headers, "customer", {"name": "华东医院", "tier": "key"}, APP)
    assert acme["contracts"] == 0 and acme["first_signed"] is None
    target = create(client, admin_headers, "target",
                    {"rep": admin.id, "start": "2026-01-01", "amount": 100000}, APP)
    assert target["end"] == "2026-03-31" and target["signed"] == 0

    first = create(client, admin_headers, "contract",
                   {"customer": acme["id"], "amount": 30000, "status": "signed",
                    "signed_date": "2026-02-10"}, APP)
    assert first["customer_tier"] == "key"
    create(client, admin_headers, "contract",
           {"customer": acme["id"], "amount": 50000, "status": "draft"}, APP)
    outside = create(client, admin_headers, "contract",
                     {"customer": acme["id"], "amount": 90000, "status": "signed",
                      "signed_date": "2026-04-02"}, APP)

    acme = client.get(f"{records_url('customer', APP)}/{acme['id']}", headers=admin_headers
                      ).get_json()
    assert acme["contracts"] == 2 and acme["first_signed"] == "2026-02-10"
    assert acme["repeat_buyer"] is True
    target = client.get(f"{records_url('target', APP)}/{target['id']}", headers=admin_headers
                        ).get_json()
    assert target["signed"] == 30000 and target["achievement"] == 0.3

    # moving a contract out of the window or deleting it changes the figures at once
    response = patch(client, admin_headers, "contract", outside, {"signed_date": "2026-03-31"},
                     APP)
    assert response.status_code == 200
    target = client.get(f"{records_url('target', APP)}/{target['id']}", headers=admin_headers
                        ).get_json()
    assert target["signed"] == 120000 and target["achievement"] == 1.2
    assert client.delete(f"{records_url('contract', APP)}/{first['id']}",
                         headers=admin_headers).status_code == 200
    acme = client.get(f"{records_url('customer', APP)}/{acme['id']}", headers=admin_headers
                      ).get_json()
    assert acme["contracts"] == 1 and acme["first_signed"] == "2026-03-31"
    assert acme["repeat_buyer"] is False
    history = client.get(f"{records_url('customer', APP)}/{acme['id']}/history",
                         headers=admin_headers).get_json()
    assert any("contracts" in (h.get("changes") or {}) for h in history["items"])


def test_related_values_in_rules(client: Any, admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition())
    key = create(client, admin_headers, "customer", {"name": "重点客户", "tier": "key"}, APP)
    normal = create(client, admin_headers, "customer", {"name": "普通客户", "tier": "normal"},
                    APP)
    response = client.post(records_url("contract", APP), headers=admin_headers,
                           json={"data": {"customer": key["id"], "amount": 500}})
    assert response.status_code == 422
    assert problems(response) == {"amount": "key_accounts_only_big"}
    small = create(client, admin_headers, "contract", {"customer": normal["id"], "amount": 500},
                   APP)
    assert small["customer_tier"] == "normal"


def test_a_rollup_over_its_own_entity_counts_the_new_record(
        client: Any, admin_headers: dict[str, str]) -> None:
    publish(client, admin_headers, definition())
    clock.travel_to(clock.now() - __import__("datetime").timedelta(days=10))
    create(client, admin_headers, "note", {"scenario": "cost"}, APP)
    clock.reset()
    created = [create(client, admin_headers, "note", {"scenario": "cost"}, APP)
               for _ in range(3)]
    create(client, admin_headers, "note", {"scenario": "delivery"}, APP)
    latest = client.get(f"{records_url('note', APP)}/{created[-1]['id']}",
                        headers=admin_headers).get_json()
    first = client.get(f"{records_url('note', APP)}/{created[0]['id']}",
                       headers=admin_headers).get_json()
    assert latest["same_week"] == 3 and first["same_week"] == 3


def test_rollup_definitions_are_checked(client: Any, admin_headers: dict[str, str]) -> None:
    app = definition()
    target = app["entities"][2]
    target["fields"].append(field("bad", "rollup", "坏", "Bad", entity="nowhere"))
    target["fields"].append(field("bad2", "rollup", "坏2", "Bad2", entity="contract",
                                  aggregate="sum", field="status", match={"nope": "rep"},
                                  filter={"==": [{"var": "colour"}, 1]}))
    target["fields"].append(field("bad3", "formula", "坏3", "Bad3",
                                  expression={"var": "$rel.rep.name"}))
    response = client.post("/api/apps", json={"definition": app}, headers=admin_headers)
    assert response.status_code == 422
    found = problems(response)
    assert found["entities[2].fields[6].entity"] == "unknown_entity"
    assert found["entities[2].fields[7].field"] == "rollup_field"
    assert found["entities[2].fields[7].match.nope"] == "rollup_match"
    assert "entities[2].fields[7].filter.==[0].var" in found
    assert found["entities[2].fields[8].expression.var"] == "unknown_field"


def test_formulas_read_the_stage_flow(client: Any, admin_headers: dict[str, str]) -> None:
    deal = entity("deal", "商机", "Deal", [
        field("name", "text", "名称", "Name"),
        field("stage", "select", "阶段", "Stage", options=[
            option("lead", "线索"), option("proposal", "报价"), option("won", "赢单")]),
        field("amount", "money", "金额", "Amount"),
        field("weighted", "formula", "加权金额", "Weighted", precision=2, expression={
            "/": [{"*": [{"var": "amount"}, {"var": "$flow.funnel.probability"}]}, 100]}),
        field("step", "formula", "第几步", "Step", expression={"var": "$flow.funnel.position"})])
    app = minimal_app(deal, key="flows")
    app["stage_flows"] = [{"key": "funnel", "entity": "deal", "field": "stage", "stages": [
        {"key": "lead", "probability": 10}, {"key": "proposal", "probability": 60},
        {"key": "won", "probability": 100, "terminal": "won"}]}]
    publish(client, admin_headers, app)
    created = create(client, admin_headers, "deal", {"name": "一期", "amount": 500000}, "flows")
    assert (created["weighted"], created["step"]) == (50000, 1)
    moved = client.post(f"{records_url('deal', 'flows')}/{created['id']}/transition",
                        json={"to": "proposal", "version": created["version"]},
                        headers=admin_headers)
    assert moved.status_code == 200, moved.get_json()
    record = client.get(f"{records_url('deal', 'flows')}/{created['id']}",
                        headers=admin_headers).get_json()
    assert (record["weighted"], record["step"]) == (300000, 2)
    app["entities"][0]["fields"].append(field("bad", "formula", "坏", "Bad", expression={
        "var": "$flow.funnel.colour"}))
    app["key"] = "flows2"
    response = client.post("/api/apps", json={"definition": app}, headers=admin_headers)
    assert problems(response) == {"entities[0].fields[5].expression.var": "unknown_field"}
