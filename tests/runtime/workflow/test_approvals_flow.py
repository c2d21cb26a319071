"""The quote-approval scenario over HTTP: a quote below 85% of list price walks regional
manager → finance → general manager, locked all along; rejects go back to the submitter."""

from __future__ import annotations

from typing import Any

from builder.runtime.records import events
from tests.runtime.workflow.approvals_helpers import QUOTES, Org, build_org, low_price_chain


def _pending_everywhere(org: Org) -> dict[str, list[int]]:
    return {who: [t["record"]["id"] for t in org.inbox(who)]
            for who in ("east_mgr", "director", "fin1", "fin2", "gm", "rep")}


def test_low_price_quote_walks_the_three_steps_and_is_approved(
        org: Org, process_events: list[events.ProcessEvent]) -> None:
    quote = org.quote("rep", price=80000, sales_rep=org.ids["rep"])
    assert quote["price_ratio"] == 0.8
    qid = quote["id"]

    # step 1: the manager of the submitter's team (east), not the director above
    assert _pending_everywhere(org) == {"east_mgr": [qid], "director": [], "fin1": [],
                                        "fin2": [], "gm": [], "rep": []}
    task = org.task("east_mgr")
    assert task["step"] == "regional" and task["step_title"] == "区域经理"
    assert task["submitted_by"]["username"] == "rep"
    assert task["record"]["title"] == "阀门报价"
    assert task["record"]["values"]["price"] == 80000
    assert [(e.name, e.record_id) for e in process_events] == [("approval_submitted", qid)]

    response = org.act("east_mgr", "approve", "价格合理，同意")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["current_step"] == "finance"

    # step 2: anyone with the finance role (或签)
    assert _pending_everywhere(org) == {"east_mgr": [], "director": [], "fin1": [qid],
                                        "fin2": [qid], "gm": [], "rep": []}
    assert org.act("fin2", "approve", "毛利可接受").status_code == 200
    assert org.inbox("fin1") == []

    # step 3: the general manager
    assert _pending_everywhere(org)["gm"] == [qid]
    assert org.record(qid).get("approval_status") is None
    response = org.act("gm", "approve", "批准")
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"
    assert all(not items for items in _pending_everywhere(org).values())

    record = org.record(qid)
    assert record["approval_status"] == "approved" and record["approved_price"] == 80000
    history = org.get("admin", f"{QUOTES}/{qid}/history").get_json()["items"]
    assert history[0]["user"]["username"] == "gm"
    assert history[0]["changes"]["approval_status"] == [None, "approved"]

    [run] = org.trail(qid)
    assert run["status"] == "approved" and run["decided_at"]
    assert [(s["key"], s["status"]) for s in run["steps"]] == [
        ("regional", "approved"), ("finance", "approved"), ("gm", "approved")]
    assert [(a["action"], a["step"], (a["user"] or {}).get("username"), a["comment"])
            for a in run["actions"]] == [
        ("submit", None, "rep", None),
        ("approve", "regional", "east_mgr", "价格合理，同意"),
        ("approve", "finance", "fin2", "毛利可接受"),
        ("approve", "gm", "gm", "批准"),
        ("complete", "gm", "gm", None)]
    assert all(a["at"] for a in run["actions"])
    decided = [e for e in process_events if e.name == "approval_decided"]
    assert [(e.data["chain"], e.data["outcome"], e.data["instance"]) for e in decided] == [
        ("low_price", "approved", run["id"])]

    # unlocked again: the rep can edit; an unrelated edit does not start a new approval
    response = org.client.patch(f"{QUOTES}/{qid}", json={
        "version": record["version"], "data": {"notes": "客户已确认"}},
        headers=org.headers["rep"])
    assert response.status_code == 200, response.get_json()
    assert len(org.trail(qid)) == 1
    # lowering the price again needs a new approval
    response = org.client.patch(f"{QUOTES}/{qid}", json={
        "version": response.get_json()["version"], "data": {"price": 75000}},
        headers=org.headers["rep"])
    assert response.status_code == 200
    assert [r["status"] for r in org.trail(qid)] == ["pending", "approved"]


def test_quote_at_or_above_85_percent_needs_no_approval(org: Org) -> None:
    quote = org.quote("rep", price=85000)
    assert org.trail(quote["id"]) == []
    assert org.inbox("east_mgr") == []


def test_the_pending_quote_cannot_be_edited_not_even_over_the_raw_api(org: Org) -> None:
    quote = org.quote("rep", price=80000, lines=[{"product": "球阀", "quantity": 2}])
    url = f"{QUOTES}/{quote['id']}"
    for who in ("rep", "admin", "east_mgr"):
        response = org.client.patch(url, json={"version": quote["version"],
                                               "data": {"price": 90000}},
                                    headers=org.headers[who])
        assert response.status_code == 409, response.get_json()
        error = response.get_json()["error"]
        assert "低价审批" in error["message"] and "审批" in error["message"]
        assert error["details"][0]["code"] == "approval_pending"
        assert error["approval_instance"] == org.trail(quote["id"])[0]["id"]
    line = quote["lines"][0]
    response = org.client.patch(url, json={"version": quote["version"], "data": {
        "lines": [{"id": line["id"], "product": "闸阀", "quantity": 2}]}},
        headers=org.headers["rep"])
    assert response.status_code == 409
    response = org.client.delete(url, headers=org.headers["admin"], query_string={"lang": "en"})
    assert response.status_code == 409
    assert "awaiting approval (Low price approval)" in response.get_json()["error"]["message"]
    record = org.record(quote["id"])
    assert record["price"] == 80000 and not record["deleted"]
    assert record["lines"][0]["product"] == "球阀" and record["version"] == quote["version"]
    # a direct write to the child entity is refused too
    line_url = f"/api/apps/sales/quote_line/records/{line['id']}"
    response = org.client.patch(line_url, json={"version": line["version"],
                                                "data": {"quantity": 9}},
                                headers=org.headers["admin"])
    assert response.status_code == 409
    assert org.client.delete(line_url, headers=org.headers["admin"]).status_code == 409
    # reading stays possible
    assert org.get("rep", url).status_code == 200


def test_reject_at_finance_returns_it_to_the_submitter(
        org: Org, process_events: list[events.ProcessEvent]) -> None:
    quote = org.quote("rep", price=70000)
    assert org.act("east_mgr", "approve", "同意").status_code == 200
    response = org.act("fin1", "reject", "低于成本价，不同意")
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["status"] == "rejected"
    assert [(s["key"], s["status"]) for s in run["steps"]] == [
        ("regional", "approved"), ("finance", "rejected"), ("gm", "waiting")]
    assert [(a["action"], a["comment"]) for a in run["actions"]][-2:] == [
        ("reject", "低于成本价，不同意"), ("complete", None)]
    assert run["actions"][-1]["outcome"] == "rejected"
    assert org.inbox("fin2") == [] and org.inbox("gm") == []
    assert [e.data["outcome"] for e in process_events if e.name == "approval_decided"] == [
        "rejected"]

    record = org.record(quote["id"])
    assert record["approval_status"] == "rejected"
    # back with the submitter: editable again, and a new price starts a new approval
    response = org.client.patch(f"{QUOTES}/{quote['id']}", json={
        "version": record["version"], "data": {"price": 80000}}, headers=org.headers["rep"])
    assert response.status_code == 200, response.get_json()
    assert [r["status"] for r in org.trail(quote["id"])] == ["pending", "rejected"]
    assert org.task("east_mgr")["record"]["id"] == quote["id"]


def test_explicit_submit_checks_the_chain_and_the_record(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = build_org(client, admin, admin_headers, auth_headers,
                    low_price_chain(trigger="submit"))
    cheap = org.quote("rep", price=60000)
    fair = org.quote("rep", price=95000)
    assert org.trail(cheap["id"]) == []  # a submit chain does not start on save

    url = f"{QUOTES}/{fair['id']}/approvals"
    response = org.post("rep", url, {"chain": "low_price"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["code"] == "entry_not_met"
    response = org.post("rep", url, {"chain": "nope"})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["path"] == "chain"
    assert org.post("rep", f"{QUOTES}/999999/approvals",
                    {"chain": "low_price"}).status_code == 404

    url = f"{QUOTES}/{cheap['id']}/approvals"
    response = org.post("rep", url, {"chain": "low_price", "comment": "客户是战略客户"})
    assert response.status_code == 201, response.get_json()
    run = response.get_json()
    assert run["status"] == "pending" and run["current_step"] == "regional"
    assert run["actions"][0]["comment"] == "客户是战略客户"
    again = org.post("rep2", url, {"chain": "low_price"})
    assert again.status_code == 409
    assert org.get("rep", f"/api/approvals/{run['id']}").get_json()["id"] == run["id"]


def test_approvers_and_the_submitter_hear_about_it_in_their_inbox(org: Org) -> None:
    def notices(who: str) -> list[dict[str, Any]]:
        response = org.get(who, "/api/notifications")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]  # type: ignore[no-any-return]

    quote = org.quote("rep", price=70000)
    [task_notice] = notices("east_mgr")
    assert "阀门报价" in task_notice["subject"] and "区域经理" in task_notice["body"]
    assert task_notice["link"]["record_id"] == quote["id"]
    assert notices("fin1") == [] and notices("rep") == []
    assert org.act("east_mgr", "approve", "同意").status_code == 200
    assert len(notices("fin1")) == 1 and len(notices("fin2")) == 1
    assert org.act("fin1", "reject", "不同意").status_code == 200
    [outcome] = notices("rep")
    assert "已驳回" in outcome["subject"]
