"""Each action type over the real API: a record change triggers a run (a job after the
commit) whose actions write through the records service, audited, all or nothing."""

from __future__ import annotations

from typing import Any

from tests.runtime.automation.helpers import (
    APP,
    automation,
    get_record,
    http_server,
    list_records,
    new_lead,
    runs,
    setup,
)
from tests.runtime.records.helpers import patch

TASK_FOR_OWNER = {"type": "create_record", "entity": "task", "set": {
    "title": {"cat": ["跟进线索：", {"var": "name"}]},
    "assignee": {"var": "owner"}, "lead": {"var": "id"}, "due": {"var": "$today"}}}


def test_create_record_makes_a_task_for_the_owner(client: Any, admin_headers: Any,
                                                  make_user: Any, auth_headers: Any,
                                                  tenant: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation("task_on_new", {"type": "created"},
                                            [TASK_FOR_OWNER]))
    rep = make_user(tenant, "rep")
    lead = new_lead(client, auth_headers(rep), name="苏州精密")
    run_jobs()
    tasks = list_records(client, admin_headers, "task")
    assert [(t["title"], t["assignee"], t["lead"]) for t in tasks] == [
        ("跟进线索：苏州精密", rep.id, lead["id"])]
    [run] = runs(client, admin_headers, "task_on_new")
    assert run["status"] == "succeeded" and run["record_id"] == lead["id"]
    assert run["result"] == [{"type": "create_record", "entity": "task",
                              "record_id": tasks[0]["id"]}]
    assert run["trigger"] == "created" and run["user_id"] == rep.id
    history = client.get(f"/api/apps/{APP}/task/records/{tasks[0]['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert [(h["action"], h["user"]["id"]) for h in history] == [("create", rep.id)]


def test_set_fields_computes_values_and_is_audited(client: Any, admin_headers: Any,
                                                   run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "score_on_contact", {"type": "updated", "fields": ["status"]},
        [{"type": "set_fields", "set": {"score": {"+": [{"var": "score"}, 10]},
                                        "notes": {"cat": [{"var": "$old.status"}, " → ",
                                                                   {"var": "status"}]}}}]))
    lead = new_lead(client, admin_headers, score=5)
    patch(client, admin_headers, "lead", lead, {"notes": "no status change"}, app=APP)
    run_jobs()
    assert runs(client, admin_headers, "score_on_contact") == []
    lead = get_record(client, admin_headers, "lead", lead["id"])
    patch(client, admin_headers, "lead", lead, {"status": "contacted"}, app=APP)
    run_jobs()
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert lead["score"] == 15 and lead["notes"] == "new → contacted"
    history = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert history[0]["changes"] == {"score": [5, 15],
                                     "notes": ["no status change", "new → contacted"]}


def test_a_run_whose_second_action_fails_leaves_nothing_of_the_first(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation("broken", {"type": "created"}, [
        TASK_FOR_OWNER,
        {"type": "set_fields", "set": {"score": 1}},
        {"type": "set_fields", "set": {"status": "no_such_status"}}]))
    lead = new_lead(client, admin_headers)
    run_jobs()
    assert list_records(client, admin_headers, "task") == []
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert lead["score"] is None and lead["version"] == 1
    [run] = runs(client, admin_headers, "broken")
    assert run["status"] == "failed" and run["result"] is None
    assert "status" in run["error"]
    history = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert [h["action"] for h in history] == ["create"]


def test_set_priority_raises_along_the_options_or_sets_a_value(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers,
          automation("escalate", {"type": "field_changed", "field": "key_account", "to": True},
                     [{"type": "set_priority", "raise": 2}]),
          automation("calm", {"type": "field_changed", "field": "status", "to": "lost"},
                     [{"type": "set_priority", "field": "priority", "to": "low"}]),
          assignment_rules=[{"key": "leads", "entity": "lead", "field": "sales_rep",
                             "priority_field": "priority",
                             "rules": [{"pool": {"users": [1]}}]}])
    lead = new_lead(client, admin_headers, priority="normal")
    lead = patch(client, admin_headers, "lead", lead, {"key_account": True},
                 app=APP).get_json()
    run_jobs()
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert lead["priority"] == "urgent"
    patch(client, admin_headers, "lead", lead, {"status": "lost"}, app=APP)
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["priority"] == "low"
    [run] = runs(client, admin_headers, "escalate")
    assert run["result"] == [{"type": "set_priority", "record_id": lead["id"],
                              "field": "priority", "from": "normal", "to": "urgent"}]


def test_call_webhook_posts_json_to_a_real_server_after_the_run_commits(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    with http_server() as (url, received):
        setup(client, admin_headers, automation("push", {"type": "created"}, [
            {"type": "call_webhook", "url": url + "/leads/{id}",
             "headers": {"X-Source": "builder-{status}"},
             "body": {"lead": {"var": "name"}, "score": {"*": [{"var": "score"}, 2]},
                      "source": "crm"}}]))
        lead = new_lead(client, admin_headers, name="无锡电子", score=21)
        run_jobs()
        assert received.event.wait(10)
    [request] = received.requests
    assert request["path"] == f"/leads/{lead['id']}"
    assert request["headers"]["X-Source"] == "builder-new"
    assert request["json"] == {"lead": "无锡电子", "score": 42, "source": "crm"}
    [run] = runs(client, admin_headers, "push")
    assert run["status"] == "succeeded"
    assert run["result"][0]["delivery"] == {"ok": True, "response": '{"errcode": 0}',
                                            "attempts": 1}


def test_a_failed_run_calls_no_webhook(client: Any, admin_headers: Any,
                                      run_jobs: Any) -> None:
    with http_server() as (url, received):
        setup(client, admin_headers, automation("push_then_fail", {"type": "created"}, [
            {"type": "call_webhook", "url": url},
            {"type": "set_fields", "set": {"score": "not a number"}}]))
        new_lead(client, admin_headers)
        run_jobs()
    assert received.requests == []
    [run] = runs(client, admin_headers, "push_then_fail")
    assert run["status"] == "failed"


def test_notify_reaches_a_dingtalk_robot_and_the_inboxes_of_owner_and_manager(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    from builder.extensions import db
    from builder.platform import service

    manager = make_user(tenant, "manager", team="east")
    rep = make_user(tenant, "rep", team="east")
    team = service.get_user(tenant.id, rep.id).teams[0]
    team.manager_id = manager.id
    db.session.commit()
    with http_server() as (url, received):
        setup(client, admin_headers, automation(
            "hot_lead", {"type": "field_changed", "field": "priority", "to": "urgent"},
            [{"type": "notify", "to": ["owner", {"manager_of": "owner"}],
              "subject": {"zh-CN": "紧急线索：{name}", "en": "Urgent lead: {name}"},
              "message": "评分 {score}，请立即跟进", "channels": ["inbox", "dingtalk"],
              "webhook": {"url": url + "/robot/send?access_token=t0k3n"}}]))
        lead = new_lead(client, auth_headers(rep), name="宁波模具", score=95)
        patch(client, auth_headers(rep), "lead", lead, {"priority": "urgent"}, app=APP)
        run_jobs()
        assert received.event.wait(10)
    [request] = received.requests
    assert request["path"] == "/robot/send?access_token=t0k3n"
    payload = request["json"]
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == "紧急线索：宁波模具"
    assert "评分 95，请立即跟进" in payload["markdown"]["text"]
    [run] = runs(client, admin_headers, "hot_lead")
    assert run["status"] == "succeeded" and run["result"][0]["recipients"] == [rep.id,
                                                                              manager.id]
    for person in (rep, manager):
        inbox = client.get("/api/notifications", headers=auth_headers(person)).get_json()
        [note] = inbox["items"]
        assert note["subject"] == "紧急线索：宁波模具"
    bystander = make_user(tenant, "bystander", team="east")
    assert client.get("/api/notifications", headers=auth_headers(bystander)
                      ).get_json()["items"] == []


def test_a_failed_webhook_call_is_tried_again_later(client: Any, admin_headers: Any,
                                                   run_jobs: Any) -> None:
    from datetime import timedelta

    from builder import clock
    from builder.runtime.jobs import timers

    with http_server() as (url, received):
        received.status = 503
        setup(client, admin_headers, automation("push", {"type": "created"}, [
            {"type": "call_webhook", "url": url, "secret": "s3cret"}]))
        clock.travel_to(clock.now(), frozen=True)
        lead = new_lead(client, admin_headers)
        run_jobs()
        [run] = runs(client, admin_headers, "push")
        delivery = run["result"][0]["delivery"]
        assert delivery["ok"] is False and delivery["attempts"] == 1 and "503" in delivery[
            "error"]
        received.status = 200
        clock.advance(timedelta(seconds=29))
        timers.run_due()
        assert len(received.requests) == 1
        clock.advance(timedelta(seconds=1))
        timers.run_due()
        assert len(received.requests) == 2
    [run] = runs(client, admin_headers, "push")
    assert run["result"][0]["delivery"]["ok"] is True
    assert run["result"][0]["delivery"]["attempts"] == 2
    second = received.requests[1]
    assert second["json"]["id"] == lead["id"]  # no body: the record
    assert second["headers"]["X-Builder-Signature"].startswith("sha256=")


def test_assign_by_the_rule_passing_over_the_holder_or_to_a_given_user(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    rule = {"key": "leads", "entity": "lead", "on_create": False,
            "rules": [{"key": "reps", "pool": {"role": "sales"}, "strategy": "round_robin"}]}
    setup(client, admin_headers,
          automation("hand_over", {"type": "field_changed", "field": "status", "to": "lost"},
                     [{"type": "assign", "rule": "leads", "reassign": True}]),
          automation("to_rep", {"type": "field_changed", "field": "sales_rep"},
                     [{"type": "assign", "user": {"var": "sales_rep"}}]),
          assignment_rules=[rule], roles=[{"key": "sales", "title": {"zh-CN": "销售"}}])
    first = make_user(tenant, "first", roles=["sales"])
    second = make_user(tenant, "second", roles=["sales"])
    lead = new_lead(client, auth_headers(first))
    assert lead["owner"] == first.id
    patch(client, auth_headers(first), "lead", lead, {"status": "lost"}, app=APP)
    run_jobs()
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert lead["owner"] == second.id  # never back to the holder
    [run] = runs(client, admin_headers, "hand_over")
    assert run["result"] == [{"type": "assign", "record_id": lead["id"], "field": "owner",
                              "from": first.id, "to": second.id}]
    patch(client, admin_headers, "lead", lead, {"sales_rep": first.id}, app=APP)
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["owner"] == first.id
    history = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/history",
                         headers=admin_headers).get_json()["items"]
    latest = history[0]  # the automation's write, by whoever triggered it
    assert (latest["before"]["owner"], latest["after"]["owner"]) == (second.id, first.id)
    assert latest["user"]["username"] == "admin"


def test_assign_names_a_rule_of_the_entity(client: Any, admin_headers: Any) -> None:
    from tests.runtime.automation.helpers import sales_app

    definition = sales_app([automation("a", {"type": "created"},
                                       [{"type": "assign", "rule": "nope"}]),
                            automation("b", {"type": "created"}, [{"type": "assign"}])])
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    assert {d["path"]: d["code"] for d in response.get_json()["error"]["details"]} == {
        "automations[0].actions[0].rule": "unknown_rule",
        "automations[1].actions[0].rule": "param_required"}
