"""Approvers of every resolver type, tenant walls, outcome writes that change nothing,
and the definition keys of approval chains."""

from __future__ import annotations

from typing import Any

from tests.definitions import title
from tests.runtime.workflow.approvals_helpers import (
    QUOTES,
    Org,
    low_price_chain,
    republish,
    sales_app,
)


def test_each_resolver_type_finds_its_approvers(org: Org) -> None:
    republish(org, low_price_chain(steps=[
        {"key": "director", "title": title("大区总监"),
         "approver": {"type": "manager_of", "of": "submitter", "levels": 2}},
        {"key": "rep_field", "approver": {"type": "field", "field": "sales_rep"}},
        {"key": "rep_manager", "approver": {"type": "manager_of", "of": "sales_rep"}},
        {"key": "owner_manager", "approver": {"type": "manager_of", "of": "owner"}},
        {"key": "named", "approver": {"type": "user", "users": [org.ids["clerk"],
                                                                 org.ids["gm"]]},
         "mode": "all"}]))
    quote = org.quote("rep", price=80000, sales_rep=org.ids["rep2"])
    for who in ("director", "rep2", "east_mgr", "east_mgr"):
        response = org.act(who, "approve")
        assert response.status_code == 200, (who, response.get_json())
    assert org.task("clerk")["step"] == org.task("gm")["step"] == "named"
    org.act("clerk", "approve")
    assert org.act("gm", "approve").get_json()["status"] == "approved"
    [run] = org.trail(quote["id"])
    assert [[t["assignee"]["username"] for t in s["tasks"]] for s in run["steps"]] == [
        ["director"], ["rep2"], ["east_mgr"], ["east_mgr"], ["clerk", "gm"]]
    assert run["steps"][0]["title"] == "大区总监"


def test_other_tenants_and_other_people_cannot_see_or_act(
        org: Org, make_tenant: Any, make_user: Any, auth_headers: Any) -> None:
    quote = org.quote("rep", price=80000)
    task = org.task("east_mgr")
    url = f"/api/approvals/tasks/{task['task_id']}"
    stranger = auth_headers(make_user(make_tenant("globex"), "stranger"))
    client = org.client
    assert client.get("/api/approvals/inbox", headers=stranger).get_json()["items"] == []
    assert client.post(url, json={"action": "approve"}, headers=stranger).status_code == 404
    assert client.get(f"/api/approvals/{task['instance_id']}",
                      headers=stranger).status_code == 404
    assert client.post(f"/api/approvals/{task['instance_id']}/withdraw",
                       headers=stranger).status_code == 404
    assert client.get(f"{QUOTES}/{quote['id']}/approvals", headers=stranger).status_code == 404
    response = org.post("director", url, {"action": "approve"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    response = org.post("east_mgr", url, {"action": "sign"})
    assert response.status_code == 422
    assert org.trail(quote["id"])[0]["current_step"] == "regional"


def test_an_outcome_that_is_already_set_still_ends_the_run(org: Org) -> None:
    republish(org, low_price_chain(
        steps=[{"key": "finance", "approver": {"type": "role", "role": "finance"}}],
        on_approved={"set": {"approval_status": "approved"}}))
    quote = org.quote("rep", price=80000)
    org.act("fin1", "approve")
    record = org.record(quote["id"])
    response = org.client.patch(f"{QUOTES}/{quote['id']}", json={
        "version": record["version"], "data": {"price": 70000}}, headers=org.headers["rep"])
    assert response.status_code == 200
    # the second approval writes nothing new to the record, and must still complete
    response = org.act("fin2", "approve", "再次同意")
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"
    runs = org.trail(quote["id"])
    assert [r["status"] for r in runs] == ["approved", "approved"]
    assert runs[0]["actions"][-1]["action"] == "complete"
    assert org.inbox("fin1") == []
    response = org.client.patch(f"{QUOTES}/{quote['id']}", json={
        "version": org.record(quote["id"])["version"], "data": {"notes": "已解锁"}},
        headers=org.headers["rep"])
    assert response.status_code == 200


def test_chain_definitions_are_checked_on_import(client: Any, admin_headers: Any) -> None:
    chain = low_price_chain(steps=[
        {"key": "finance", "approver": {"type": "role", "role": "finance"},
         "if_no_approver": "ignore"},
        {"key": "rep", "approver": {"type": "field", "field": "price"}},
        {"key": "who", "approver": {"type": "nobody"}}],
        on_approved={"set": {"approved_price": {"logic": {"var": "nope"}}}})
    response = client.post("/api/apps", json={"definition": sales_app(chain)},
                           headers=admin_headers)
    assert response.status_code == 422
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    assert {"approval_chains[0].steps[0].if_no_approver",
            "approval_chains[0].steps[1].approver.field",
            "approval_chains[0].steps[2].approver.type"} <= paths
    assert any(p.startswith("approval_chains[0].on_approved.set.approved_price.logic")
               for p in paths), paths


def test_a_run_keeps_the_chain_it_was_submitted_with(org: Org) -> None:
    quote = org.quote("rep", price=80000)
    republish(org, low_price_chain(steps=[
        {"key": "gm", "approver": {"type": "role", "role": "general_manager"}}]))
    # the pending run still walks its three steps
    assert org.act("east_mgr", "approve").get_json()["current_step"] == "finance"
    assert org.inbox("gm") == []
    org.act("fin1", "approve")
    assert org.act("gm", "approve").get_json()["status"] == "approved"
    assert [s["key"] for s in org.trail(quote["id"])[0]["steps"]] == [
        "regional", "finance", "gm"]


def test_the_routes_are_documented(client: Any) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/approvals/inbox", "/api/approvals/tasks/{task_id}",
                 "/api/approvals/{instance_id}/withdraw",
                 "/api/apps/{app_key}/{entity_key}/records/{record_id}/approvals"):
        assert path in paths


def test_a_chain_without_lock_leaves_the_record_editable(org: Org) -> None:
    republish(org, low_price_chain(lock_record=False))
    quote = org.quote("rep", price=80000)
    response = org.client.patch(f"{QUOTES}/{quote['id']}", json={
        "version": quote["version"], "data": {"notes": "审批中补充说明"}},
        headers=org.headers["rep"])
    assert response.status_code == 200, response.get_json()
    [run] = org.trail(quote["id"])
    assert run["status"] == "pending" and run["locks_record"] is False
