"""Claiming from the pool (公海抢单) and releasing back to it, over HTTP."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from builder.extensions import db
from tests.runtime.automation.assignment_helpers import (
    assignments_per_record,
    owners,
    publish_leads,
    reps,
    system_leads,
    url,
)

POOL_RULE = {
    "key": "public_pool", "on_create": False, "managers": {"role": "sales_manager"},
    "open": {"!=": [{"var": "status"}, "closed"]},
    "claim": {"pool": {"team": "sales"}, "max_open": 2,
              "when": {"!=": [{"var": "status"}, "closed"]}}}


def claim(client: Any, headers: dict[str, str], lead: dict[str, Any], **body: Any) -> Any:
    return client.post(url(f"/records/{lead['id']}/claim"), json=body, headers=headers)


def release(client: Any, headers: dict[str, str], lead: dict[str, Any]) -> Any:
    return client.post(url(f"/records/{lead['id']}/release"), json={}, headers=headers)


@pytest.fixture
def pool(client, tenant, admin_headers, make_user, auth_headers):
    """Two reps of the sales team, an outsider, a manager, and five unassigned leads."""
    first, second = reps(make_user, tenant, "sales", 2)
    outsider = make_user(tenant, "outsider")
    manager = make_user(tenant, "manager", roles=("sales_manager",))
    publish_leads(client, admin_headers, POOL_RULE)
    leads = system_leads(tenant, [{"name": f"公海线索{i}"} for i in range(5)])
    headers = {u.username: auth_headers(u) for u in (first, second, outsider, manager)}
    return {"first": first, "second": second, "leads": leads, "headers": headers}


def test_claiming_takes_an_unassigned_lead_once(client, pool):
    lead, first, second = pool["leads"][0], pool["first"], pool["second"]
    taken = claim(client, pool["headers"]["rep1"], lead)
    assert taken.status_code == 200, taken.get_json()
    assert taken.get_json()["owner"] == first.id

    late = claim(client, pool["headers"]["rep2"], lead)
    assert late.status_code == 409
    error = late.get_json()["error"]
    assert error["code"] == "conflict" and first.display_name in error["message"]
    assert error["holder"] == first.id
    again = claim(client, pool["headers"]["rep1"], lead)
    assert again.status_code == 409 and again.get_json()["error"]["holder"] == first.id

    history = client.get(url(f"/records/{lead['id']}/history"),
                         headers=pool["headers"]["rep1"]).get_json()["items"]
    assert history[0]["changes"] == {"owner": [None, first.id]}
    assert history[0]["user"]["id"] == first.id
    assert history[0]["details"]["assignment"]["kind"] == "claim"
    assert history[0]["details"]["assignment"]["rule"] == "public_pool"
    assert second.id not in {h["after"]["owner"] for h in history}


def test_claim_limit_counts_open_leads(client, pool):
    headers, leads = pool["headers"]["rep1"], pool["leads"]
    assert claim(client, headers, leads[0]).status_code == 200
    assert claim(client, headers, leads[1]).status_code == 200
    over = claim(client, headers, leads[2])
    assert over.status_code == 409
    assert over.get_json()["error"]["limit"] == 2 and over.get_json()["error"]["held"] == 2
    assert "2" in over.get_json()["error"]["message"]

    lead = leads[1]
    record = client.get(url(f"/records/{lead['id']}"), headers=headers).get_json()
    closed = client.patch(url(f"/records/{lead['id']}"), headers=headers,
                          json={"version": record["version"], "data": {"status": "closed"}})
    assert closed.status_code == 200
    assert claim(client, headers, leads[2]).status_code == 200  # closed leads do not count


def test_only_the_pool_may_claim_and_only_claimable_leads(client, pool):
    leads, headers = pool["leads"], pool["headers"]
    outsider = claim(client, headers["outsider"], leads[0])
    assert outsider.status_code == 403
    assert outsider.get_json()["error"]["code"] == "forbidden"

    record = client.get(url(f"/records/{leads[3]['id']}"), headers=headers["rep1"]).get_json()
    client.patch(url(f"/records/{leads[3]['id']}"), headers=headers["manager"],
                 json={"version": record["version"], "data": {"status": "closed"}})
    closed = claim(client, headers["rep1"], leads[3])
    assert closed.status_code == 409
    assert claim(client, headers["rep1"], {"id": 999999}).status_code == 404
    unknown_rule = claim(client, headers["rep1"], leads[0], rule="nope")
    assert unknown_rule.status_code == 404


def test_release_gives_the_lead_back_to_the_pool(client, pool):
    lead, headers = pool["leads"][0], pool["headers"]
    assert claim(client, headers["rep1"], lead).status_code == 200
    assert release(client, headers["rep2"], lead).status_code == 403
    released = release(client, headers["rep1"], lead)
    assert released.status_code == 200 and released.get_json()["owner"] is None
    assert release(client, headers["rep1"], lead).status_code == 409

    assert claim(client, headers["rep2"], lead).status_code == 200
    by_manager = release(client, headers["manager"], lead)
    assert by_manager.status_code == 200 and by_manager.get_json()["owner"] is None
    kinds = [h["details"]["assignment"]["kind"] for h in client.get(
        url(f"/records/{lead['id']}/history"), headers=headers["rep1"]).get_json()["items"]
        if h["details"]]
    assert kinds == ["release", "claim", "release", "claim"]


def test_claiming_needs_a_claim_pool(client, tenant, admin_headers, make_user, auth_headers):
    rep = reps(make_user, tenant, "sales", 1)[0]
    publish_leads(client, admin_headers, {"key": "auto", "on_create": False,
                                          "rules": [{"pool": {"team": "sales"}}]})
    lead = system_leads(tenant, [{"name": "甲"}])[0]
    refused = claim(client, auth_headers(rep), lead)
    assert refused.status_code == 403
    message = refused.get_json()["error"]["message"]
    assert message == "线索的记录不能领取：没有分配规则设置了公海领取"
    english = client.post(url(f"/records/{lead['id']}/claim?lang=en"), json={},
                          headers=auth_headers(rep))
    assert english.get_json()["error"]["message"].startswith("Records of Lead cannot be claimed")


def _rush(client: Any, headers: dict[str, dict[str, str]], lead_ids: list[int]
          ) -> dict[tuple[str, int], Any]:
    """Each user claims every lead, all users pressing at the same moment for each lead."""
    db.session.commit()  # the test's own transaction would hold SQLite's write lock
    responses: dict[tuple[str, int], Any] = {}
    barrier = threading.Barrier(len(headers))

    def press(username: str) -> None:
        for lead_id in lead_ids:
            barrier.wait()
            responses[(username, lead_id)] = client.post(
                url(f"/records/{lead_id}/claim"), json={}, headers=headers[username])

    threads = [threading.Thread(target=press, args=(name,)) for name in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_concurrent_claims_of_one_lead_have_one_winner(client, tenant, admin_headers,
                                                       make_user, auth_headers):
    """Two reps press "claim" on the same lead at the same moment: one 200, one 409."""
    first, second = reps(make_user, tenant, "sales", 2)
    publish_leads(client, admin_headers, {"key": "public_pool", "claim": {}})
    lead_ids = [lead["id"] for lead in system_leads(tenant, [{"name": f"抢单{i}"}
                                                             for i in range(20)])]
    ids = {"rep1": first.id, "rep2": second.id}
    responses = _rush(client, {"rep1": auth_headers(first), "rep2": auth_headers(second)},
                      lead_ids)

    for lead_id in lead_ids:
        codes = sorted(responses[(name, lead_id)].status_code for name in ids)
        assert codes == [200, 409], (lead_id, codes)
        winner = next(n for n in ids if responses[(n, lead_id)].status_code == 200)
        loser = next(n for n in ids if n != winner)
        error = responses[(loser, lead_id)].get_json()["error"]
        assert error["holder"] == ids[winner] and winner in error["message"]
    counted = owners(tenant)
    assert counted[first.id] + counted[second.id] == 20 and None not in counted
    assert set(assignments_per_record(tenant).values()) == {1}


def test_concurrent_claims_respect_the_limit(client, tenant, pool):
    """One rep claiming from two windows at once still stops at ``max_open``."""
    leads = system_leads(tenant, [{"name": f"抢单{i}"} for i in range(6)])
    headers = pool["headers"]["rep1"]
    responses = _rush(client, {"window1": headers, "window2": headers},
                      [lead["id"] for lead in leads])
    assert sum(1 for r in responses.values() if r.status_code == 200) == 2
    assert owners(tenant)[pool["first"].id] == 2


def test_claim_is_scoped_to_the_callers_tenant(client, tenant, pool, make_tenant, make_user,
                                               auth_headers):
    other = make_tenant("globex")
    stranger = make_user(other, "stranger", team="sales")
    lead = pool["leads"][0]
    assert claim(client, auth_headers(stranger), lead).status_code == 404  # no such app
    stranger_admin = make_user(other, "boss", is_tenant_admin=True)
    publish_leads(client, auth_headers(stranger_admin), POOL_RULE)
    response = claim(client, auth_headers(stranger), lead)
    assert response.status_code == 404  # their own leads table has no such record
    assert release(client, auth_headers(stranger_admin), lead).status_code == 404
    assert owners(tenant) == {None: 5}
