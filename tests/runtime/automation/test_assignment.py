"""Assignment rules: strategies, priority, on-create assignment, history, ``assign_record``.

Leads are distributed the way a manager does it: ``POST .../lead/assign`` and the run's
counts; on create they are assigned in the creating request.
"""

from __future__ import annotations

from typing import Any

import pytest

from builder.errors import Conflict
from builder.extensions import db
from builder.platform.models import User
from builder.runtime.automation.assignment import assign_record
from builder.runtime.records import RecordService, events
from tests.runtime.automation.assignment_helpers import (
    owners,
    publish_leads,
    reps,
    store_of,
    system_leads,
    url,
)
from tests.runtime.records.helpers import create


def distribute(client: Any, headers: dict[str, str], run_jobs: Any, **body: Any
               ) -> dict[str, Any]:
    response = client.post(url("/assign"), json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    run_jobs()
    run = client.get(url(f"/assign/{response.get_json()['id']}"), headers=headers)
    assert run.status_code == 200
    result: dict[str, Any] = run.get_json()
    assert result["status"] == "done", result
    return result


@pytest.mark.slow
def test_round_robin_gives_each_available_rep_exactly_a_fifth(
        client, tenant, admin_headers, make_user, auth_headers, run_jobs):
    east = reps(make_user, tenant, "east", 3, prefix="east", parent="sales")
    north = reps(make_user, tenant, "north", 3, prefix="north", parent="sales")
    away = north[2]
    response = client.patch(f"/api/admin/users/{away.id}", json={"is_available": False},
                            headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["is_available"] is False
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False,
        "rules": [{"pool": {"team": "sales"}, "strategy": "available_only"}]})
    system_leads(tenant, [{"name": f"线索{i}"} for i in range(1000)])

    run = distribute(client, admin_headers, run_jobs)

    available = [u.id for u in [*east, *north[:2]]]
    assert owners(tenant) == {user_id: 200 for user_id in available}
    assert run["pending"] == 1000 and run["assigned"] == 1000 and run["unassigned"] == 0
    assert run["per_user"] == {str(user_id): 200 for user_id in available}
    assert away.id not in owners(tenant)


def test_a_rep_marks_themselves_available_again(client, tenant, admin_headers, make_user,
                                                auth_headers, run_jobs):
    first, second = reps(make_user, tenant, "sales", 2)
    for user, available in ((first, False), (first, True), (second, False)):
        response = client.put("/api/auth/me/availability", json={"available": available},
                              headers=auth_headers(user))
        assert response.status_code == 200 and response.get_json()["is_available"] is available
    assert client.put("/api/auth/me/availability", json={"available": "maybe"},
                      headers=auth_headers(first)).status_code == 422
    publish_leads(client, admin_headers, {
        "key": "backlog", "rules": [{"pool": {"team": "sales"}, "available_only": True,
                                     "strategy": "round_robin"}]})
    system_leads(tenant, [{"name": f"线索{i}"} for i in range(4)])
    distribute(client, admin_headers, run_jobs)
    assert owners(tenant) == {first.id: 4}


def test_least_open_evens_out_open_loads(client, tenant, admin_headers, make_user,
                                         run_jobs):
    a, b, c = reps(make_user, tenant, "sales", 3)
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False,
        "open": {"!=": [{"var": "status"}, "closed"]},
        "rules": [{"pool": {"team": "sales"}, "strategy": "least_open"}]})
    store = store_of(tenant)
    held = [(a, "new")] * 3 + [(b, "following")] + [(b, "closed")] * 5
    for user, status in held:
        lead = system_leads(tenant, [{"name": "旧线索", "status": status}])[0]
        RecordService(store, None).set_owner(lead["id"], user.id)
    fresh = system_leads(tenant, [{"name": f"新线索{i}"} for i in range(6)])

    distribute(client, admin_headers, run_jobs)

    db.session.commit()
    got = {lead["id"]: RecordService(store, None).get(lead["id"])["owner"] for lead in fresh}
    # open loads start at a 3, b 1 (its five closed leads do not count), c 0
    assert sorted(got.values()) == sorted([c.id, b.id, c.id, b.id, c.id, a.id])
    assert owners(tenant) == {a.id: 4, b.id: 8, c.id: 3}


def test_field_strategy_follows_a_user_field_or_a_mapping(client, tenant, admin_headers,
                                                          make_user):
    east = reps(make_user, tenant, "east", 1, prefix="east")[0]
    north = reps(make_user, tenant, "north", 2, prefix="north")
    fallback = reps(make_user, tenant, "pool", 1, prefix="pool")[0]
    publish_leads(client, admin_headers, {
        "key": "by_field", "rules": [
            {"key": "named", "strategy": "field", "source": "sales_rep",
             "when": {"!!": {"var": "sales_rep"}}},
            {"key": "by_region", "strategy": "field", "source": "region",
             "map": {"east": {"users": [east.username]}, "north": {"team": "north"}}},
            {"key": "rest", "pool": {"users": [fallback.id]}}]})

    named = create(client, admin_headers, "lead", {"name": "指定", "sales_rep": north[1].id,
                                                    "region": "east"}, app="leads")
    assert named["owner"] == north[1].id
    in_east = create(client, admin_headers, "lead", {"name": "华东", "region": "east"},
                     app="leads")
    assert in_east["owner"] == east.id
    in_north = [create(client, admin_headers, "lead", {"name": f"华北{i}", "region": "north"},
                       app="leads")["owner"] for i in range(4)]
    assert in_north == [north[0].id, north[1].id, north[0].id, north[1].id]
    south = create(client, admin_headers, "lead", {"name": "华南", "region": "south"},
                   app="leads")
    assert south["owner"] == fallback.id


def test_backlog_goes_out_highest_priority_first(client, tenant, admin_headers, make_user,
                                                 run_jobs):
    first, second = reps(make_user, tenant, "sales", 2)
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False, "priority_field": "score",
        "open": {"!=": [{"var": "status"}, "closed"]},
        "rules": [{"pool": {"team": "sales"}, "max_open": 2}]})
    scores = [40, None, 95, 70, 88, 10]
    leads = system_leads(tenant, [{"name": f"线索{i}", "score": score}
                                  for i, score in enumerate(scores)])

    run = distribute(client, admin_headers, run_jobs)

    assert (run["assigned"], run["unassigned"]) == (4, 2)
    store = store_of(tenant)
    by_score = {lead["score"]: RecordService(store, None).get(lead["id"])["owner"]
                for lead in leads}
    # round robin in priority order: 95, 88, 70, 40; 10 and the unscored lead wait
    assert by_score == {95: first.id, 88: second.id, 70: first.id, 40: second.id,
                        10: None, None: None}


def test_on_create_matches_region_industry_and_budget(client, tenant, admin_headers,
                                                      make_user, auth_headers):
    key_accounts = reps(make_user, tenant, "key_accounts", 2, prefix="ka")
    east = reps(make_user, tenant, "east", 2, prefix="east")
    others = reps(make_user, tenant, "general", 1, prefix="gen", roles=("sales",))
    publish_leads(client, admin_headers, {
        "key": "inbound", "rules": [
            {"key": "big_east_factories", "strategy": "least_open",
             "when": {"and": [{"==": [{"var": "region"}, "east"]},
                              {"==": [{"var": "industry"}, "manufacturing"]},
                              {">=": [{"var": "budget"}, 500000]}]},
             "pool": {"team": "key_accounts"}},
            {"key": "east", "when": {"==": [{"var": "region"}, "east"]},
             "pool": {"team": "east"}},
            {"key": "everyone_else", "pool": {"role": "sales"}}]})

    big = create(client, admin_headers, "lead", {
        "name": "大单", "region": "east", "industry": "manufacturing", "budget": 800000},
        app="leads")
    small = create(client, admin_headers, "lead", {
        "name": "小单", "region": "east", "industry": "manufacturing", "budget": 20000},
        app="leads")
    north = create(client, admin_headers, "lead", {"name": "北方", "region": "north"},
                   app="leads")
    assert big["owner"] in {u.id for u in key_accounts}
    assert small["owner"] == east[0].id and north["owner"] == others[0].id

    history = client.get(url(f"/records/{big['id']}/history"),
                         headers=admin_headers).get_json()["items"]
    assert [h["action"] for h in history] == ["update", "create"]
    assigned, admin_id = history[0], big["created_by"]
    assert assigned["changes"] == {"owner": [admin_id, big["owner"]]}
    assert assigned["user"]["username"] == "admin"
    assert assigned["details"]["assignment"] == {
        "kind": "created", "rule": "inbound", "item": "big_east_factories",
        "strategy": "least_open", "field": "owner", "from": admin_id, "to": big["owner"],
        "by": admin_id, "run": None}
    assert history[1]["details"] == {}


def test_a_user_field_is_filled_only_when_left_empty(client, tenant, admin_headers,
                                                     make_user):
    rep, chosen = reps(make_user, tenant, "sales", 2)
    publish_leads(client, admin_headers, {
        "key": "reps", "field": "sales_rep", "rules": [{"pool": {"users": [rep.id]}}]})
    filled = create(client, admin_headers, "lead", {"name": "甲"}, app="leads")
    kept = create(client, admin_headers, "lead", {"name": "乙", "sales_rep": chosen.id},
                  app="leads")
    assert filled["sales_rep"] == rep.id and kept["sales_rep"] == chosen.id
    admin = db.session.query(User).filter_by(username="admin").one()
    assert filled["owner"] == admin.id  # the owner stays the creator


def test_assign_record_reassigns_excluding_the_current_owner(client, tenant, admin_headers,
                                                             make_user):
    a, b, c = reps(make_user, tenant, "sales", 3)
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False, "rules": [{"pool": {"team": "sales"}}]})
    lead = system_leads(tenant, [{"name": "超时线索"}])[0]
    store = store_of(tenant)

    assert assign_record(store, lead["id"]) == a.id
    assert assign_record(store, lead["id"], exclude=[a.id], user=None) == b.id
    assert assign_record(store, lead["id"], rule_key="backlog", exclude=[a.id, b.id]) == c.id
    assert assign_record(store, lead["id"], exclude=[a.id, b.id, c.id]) is None
    assert assign_record(store, lead["id"], exclude=[a.id, b.id]) == c.id  # theirs already
    db.session.commit()
    history = client.get(url(f"/records/{lead['id']}/history"),
                         headers=admin_headers).get_json()["items"]
    changes = [h["changes"]["owner"] for h in history if h["action"] == "update"]
    assert changes == [[b.id, c.id], [a.id, b.id], [None, a.id]]
    assert {h["details"]["assignment"]["kind"] for h in history[:3]} == {"assign"}
    assert all(h["user"] is None for h in history[:3])


def test_distribution_is_for_managers(client, tenant, admin_headers, make_user,
                                      auth_headers, run_jobs):
    rep = reps(make_user, tenant, "sales", 1)[0]
    boss = make_user(tenant, "boss", roles=("sales_manager",))
    publish_leads(client, admin_headers, {
        "key": "backlog", "managers": {"role": "sales_manager"},
        "rules": [{"pool": {"users": [rep.id]}}]})
    system_leads(tenant, [{"name": "甲"}])
    refused = client.post(url("/assign"), json={}, headers=auth_headers(rep))
    assert refused.status_code == 403
    distribute(client, auth_headers(boss), run_jobs)
    assert owners(tenant) == {rep.id: 1}
    unknown = client.post(url("/assign"), json={"rule": "nope"}, headers=admin_headers)
    assert unknown.status_code == 404 and "nope" in unknown.get_json()["error"]["message"]


@pytest.fixture
def frozen_guard() -> Any:
    """A guard, as an approval engine would register, refusing to move frozen leads."""

    def refuse(change: events.RecordChange) -> None:
        if "owner" in change.changed and str(change.after.get("name")).startswith("冻结"):
            raise Conflict("frozen")

    events.record_hooks.guard("test.frozen")(refuse)
    yield
    events.record_hooks.remove("test.frozen")


def test_refused_assignments_are_counted_and_the_rest_goes_out(
        client, tenant, admin_headers, make_user, run_jobs, frozen_guard):
    first, second = reps(make_user, tenant, "sales", 2)
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False, "rules": [{"pool": {"team": "sales"}}]})
    names = ["甲", "冻结乙", "丙", "丁", "冻结戊", "己"]
    leads = system_leads(tenant, [{"name": name} for name in names])

    run = distribute(client, admin_headers, run_jobs)

    assert (run["assigned"], run["failed"], run["unassigned"]) == (4, 2, 0)
    store = store_of(tenant)
    got = {lead["name"]: RecordService(store, None).get(lead["id"])["owner"] for lead in leads}
    assert got == {"甲": first.id, "冻结乙": None, "丙": second.id, "丁": first.id,
                   "冻结戊": None, "己": second.id}
