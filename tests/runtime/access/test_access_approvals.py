"""Approvals and claims follow the user's roles: submit and trail reach only records in
scope, an approver's inbox and a claimed record never show fields hidden from them."""

from __future__ import annotations

from typing import Any

from tests.definitions import title
from tests.runtime.access.helpers import make_org, sales_app, url
from tests.runtime.records.helpers import publish


def test_approvals_stay_within_the_users_rights(
        client: Any, tenant: Any, admin_headers: Any, make_user: Any,
        auth_headers: Any) -> None:
    org = make_org(tenant, make_user)
    definition = sales_app()
    definition["approval_chains"] = [{
        "key": "check", "title": title("审核", "Check"), "entity": "deal",
        "trigger": "submit", "lock_record": False,
        "steps": [{"key": "peer", "title": title("同事", "Peer"), "mode": "any",
                   "approver": {"type": "user", "users": [org.junior.id]}}]}]
    publish(client, admin_headers, definition)
    rep = auth_headers(org.rep)
    mine = client.post(url(), headers=rep, json={"data": {"name": "mine"}}).get_json()
    theirs = client.post(url(), headers=auth_headers(org.outsider),
                         json={"data": {"name": "theirs"}}).get_json()
    cost = client.patch(url(record_id=mine["id"]), headers=admin_headers,
                        json={"version": mine["version"], "data": {"cost": 42}})
    assert cost.status_code == 200
    approvals = url(record_id=theirs["id"], tail="/approvals")
    assert client.post(approvals, headers=rep, json={"chain": "check"}).status_code == 404
    assert client.get(approvals, headers=rep).status_code == 404
    submitted = client.post(url(record_id=mine["id"], tail="/approvals"), headers=rep,
                            json={"chain": "check"})
    assert submitted.status_code == 201, submitted.get_json()
    assert client.get(url(record_id=mine["id"], tail="/approvals"),
                      headers=rep).status_code == 200
    inbox = client.get("/api/approvals/inbox", headers=auth_headers(org.junior)).get_json()
    values = inbox["items"][0]["record"]["values"]
    assert values["name"] == "mine" and "cost" not in values and "margin" not in values


def test_a_claimed_record_comes_back_without_hidden_fields(
        client: Any, tenant: Any, admin_headers: Any, make_user: Any,
        auth_headers: Any) -> None:
    org = make_org(tenant, make_user)
    definition = sales_app()
    definition["roles"][0]["permissions"][0]["scope"] = {"or": [
        {"==": [{"var": "owner"}, {"var": "$user.id"}]}, {"==": [{"var": "owner"}, None]}]}
    definition["assignment_rules"] = [{
        "key": "pool", "title": title("公海", "Pool"), "entity": "deal", "on_create": False,
        "claim": {}, "rules": []}]
    publish(client, admin_headers, definition)
    deal = client.post(url(), headers=admin_headers, json={"data": {"name": "pool", "cost": 9}})
    released = client.post(url(record_id=deal.get_json()["id"], tail="/release"),
                           headers=admin_headers)
    assert released.status_code == 200, released.get_json()
    rep = auth_headers(org.rep)
    assert [d["name"] for d in client.get(url(), headers=rep).get_json()["items"]] == ["pool"]
    claimed = client.post(url(record_id=deal.get_json()["id"], tail="/claim"), headers=rep)
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["owner"] == org.rep.id and "cost" not in claimed.get_json()
