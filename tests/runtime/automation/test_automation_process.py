"""Automations and the approval engine: an action submits a record to a chain, and a
decided approval triggers an automation."""

from __future__ import annotations

from typing import Any

from tests.runtime.automation.helpers import (
    APP,
    automation,
    get_record,
    list_records,
    new_lead,
    runs,
    setup,
)
from tests.runtime.records.helpers import create, patch


def big_deal(approver_id: int) -> dict[str, Any]:
    return {"key": "big_deal", "entity": "lead", "trigger": "submit",
            "steps": [{"key": "boss", "approver": {"type": "user", "users": [approver_id]}}],
            "lock_record": False, "on_approved": {"set": {"status": "qualified"}}}


def test_start_approval_submits_as_the_triggering_user_and_a_decision_triggers(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    rep = make_user(tenant, "rep")
    boss = make_user(tenant, "boss")
    setup(client, admin_headers,
          automation("submit_big", {"type": "field_changed", "field": "score"},
                     [{"type": "start_approval", "chain": "big_deal",
                       "comment": "评分 {score}，自动提交"}],
                     condition={">=": [{"var": "score"}, 80]}),
          automation("after_approval",
                     {"type": "approval_decided", "chain": "big_deal", "outcome": "approved"},
                     [{"type": "create_record", "entity": "task", "set": {
                         "title": {"cat": ["签约准备：", {"var": "name"}, "（",
                                           {"var": "$trigger.outcome"}, "）"]},
                         "assignee": {"var": "owner"}, "lead": {"var": "id"}}}]),
          approval_chains=[big_deal(boss.id)])
    lead = new_lead(client, auth_headers(rep), score=10)
    lead = patch(client, auth_headers(rep), "lead", lead, {"score": 90}, app=APP).get_json()
    run_jobs()
    trail = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/approvals",
                       headers=auth_headers(rep)).get_json()["items"]
    assert [(i["chain"], i["status"], i["submitted_by"]["id"]) for i in trail] == [
        ("big_deal", "pending", rep.id)]
    assert trail[0]["actions"][0]["comment"] == "评分 90，自动提交"
    [run] = runs(client, admin_headers, "submit_big")
    assert run["result"][0]["instance"] == trail[0]["id"]
    assert list_records(client, admin_headers, "task") == []

    [task] = client.get("/api/approvals/inbox", headers=auth_headers(boss)).get_json()["items"]
    decided = client.post(f"/api/approvals/tasks/{task['task_id']}", json={"action": "approve"},
                          headers=auth_headers(boss))
    assert decided.status_code == 200, decided.get_json()
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["status"] == "qualified"
    [created] = list_records(client, admin_headers, "task")
    assert (created["title"], created["assignee"]) == ("签约准备：华东制造（approved）", rep.id)
    [decision_run] = runs(client, admin_headers, "after_approval")
    assert decision_run["trigger"] == "approval_decided" and decision_run["user_id"] == boss.id


def test_a_rejection_does_not_trigger_an_automation_waiting_for_approval(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    rep = make_user(tenant, "rep")
    boss = make_user(tenant, "boss")
    setup(client, admin_headers,
          automation("after_approval",
                     {"type": "approval_decided", "chain": "big_deal", "outcome": "approved"},
                     [{"type": "set_fields", "set": {"flagged": True}}]),
          automation("after_rejection", {"type": "approval_decided", "outcome": "rejected"},
                     [{"type": "set_fields", "set": {"status": "lost"}}]),
          approval_chains=[big_deal(boss.id)])
    lead = new_lead(client, auth_headers(rep))
    submitted = client.post(f"/api/apps/{APP}/lead/records/{lead['id']}/approvals",
                            json={"chain": "big_deal"}, headers=auth_headers(rep))
    assert submitted.status_code == 201, submitted.get_json()
    [task] = client.get("/api/approvals/inbox", headers=auth_headers(boss)).get_json()["items"]
    client.post(f"/api/approvals/tasks/{task['task_id']}", json={"action": "reject"},
                headers=auth_headers(boss))
    run_jobs()
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert (lead["status"], lead["flagged"]) == ("lost", None)
    assert runs(client, admin_headers, "after_approval") == []


def test_start_approval_names_a_chain_of_the_entity(client: Any, admin_headers: Any) -> None:
    from tests.runtime.automation.helpers import sales_app

    definition = sales_app([automation("submit", {"type": "created"},
                                       [{"type": "start_approval", "chain": "nope"}])])
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    assert {d["path"]: d["code"] for d in response.get_json()["error"]["details"]} == {
        "automations[0].actions[0].chain": "unknown_chain"}


FLOW = {"key": "pipeline", "entity": "lead", "field": "status", "stages": [
    {"key": "new"}, {"key": "contacted"}, {"key": "qualified"}, {"key": "lost",
                                                                  "terminal": "lost"}]}


def move(client: Any, headers: dict[str, str], lead: dict[str, Any], to: str) -> Any:
    lead = get_record(client, headers, "lead", lead["id"])
    response = client.post(f"/api/apps/{APP}/lead/records/{lead['id']}/transition",
                           json={"to": to, "version": lead["version"], "data": {}},
                           headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_stage_entered_and_left_trigger_with_the_flow_and_stage(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers,
          automation("on_qualified", {"type": "stage_entered", "flow": "pipeline",
                                      "stage": "qualified"},
                     [{"type": "create_record", "entity": "task", "set": {
                         "title": {"cat": ["准备方案：", {"var": "name"}, " ",
                                           {"var": "$trigger.from"}, "→",
                                           {"var": "$trigger.to"}]},
                         "lead": {"var": "id"}}}],
                     condition={"==": [{"var": "$count.followup.lead"}, 0]}),
          automation("left_new", {"type": "stage_left", "stage": ["new"]},
                     [{"type": "set_fields", "set": {"score": 10}}]),
          stage_flows=[FLOW])
    lead = new_lead(client, admin_headers)
    move(client, admin_headers, lead, "contacted")
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["score"] == 10
    assert list_records(client, admin_headers, "task") == []
    move(client, admin_headers, lead, "qualified")
    run_jobs()
    [task] = list_records(client, admin_headers, "task")
    assert task["title"] == "准备方案：华东制造 contacted→qualified"
    assert [r["trigger"] for r in runs(client, admin_headers, "on_qualified")] == [
        "stage_entered"]

    other = new_lead(client, admin_headers, name="有跟进的线索")
    create(client, admin_headers, "followup", {"lead": other["id"], "note": "已电话"},
           app=APP)
    move(client, admin_headers, other, "contacted")
    move(client, admin_headers, other, "qualified")
    run_jobs()
    assert len(list_records(client, admin_headers, "task")) == 1  # $count said no
