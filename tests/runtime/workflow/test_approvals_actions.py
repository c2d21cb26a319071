"""Actions on approval tasks: 会签, delegate, return, withdraw, self-approval, step
conditions, steps nobody can approve, and who may act at all."""

from __future__ import annotations

from typing import Any

from tests.runtime.workflow.approvals_helpers import (
    QUOTES,
    Org,
    build_org,
    low_price_chain,
    republish,
)


def _org(client: Any, admin: Any, admin_headers: Any, auth_headers: Any, **changes: Any) -> Org:
    return build_org(client, admin, admin_headers, auth_headers, low_price_chain(**changes))


def _steps(**changed: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = low_price_chain()["steps"]
    for step in steps:
        step.update(changed.get(step["key"], {}))
    return steps


def test_all_mode_needs_every_approver(client: Any, admin: Any, admin_headers: Any,
                                       auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers,
               steps=_steps(finance={"mode": "all"}))
    quote = org.quote("rep", price=80000)
    assert org.act("east_mgr", "approve", "同意").status_code == 200
    response = org.act("fin1", "approve", "财务一同意")
    assert response.status_code == 200
    run = response.get_json()
    assert run["current_step"] == "finance" and run["status"] == "pending"
    assert [t["status"] for t in run["steps"][1]["tasks"]] == ["approved", "pending"]
    assert org.inbox("gm") == [] and org.inbox("fin1") == []
    assert org.task("fin2")["mode"] == "all"
    response = org.act("fin2", "approve", "财务二同意")
    assert response.get_json()["current_step"] == "gm"
    assert org.task("gm")["record"]["id"] == quote["id"]
    # in 会签 one rejection is enough to reject
    assert org.act("gm", "reject", "不批").get_json()["status"] == "rejected"


def test_delegate_hands_the_task_to_another_user(org: Org) -> None:
    quote = org.quote("rep", price=80000)
    task = org.task("east_mgr")
    url = f"/api/approvals/tasks/{task['task_id']}"
    for body, path in [({"action": "delegate"}, "to_user"),
                       ({"action": "delegate", "to_user": 999999}, "to_user"),
                       ({"action": "delegate", "to_user": org.ids["east_mgr"]}, "to_user"),
                       ({"action": "delegate", "to_user": org.ids["rep"]}, "to_user")]:
        response = org.post("east_mgr", url, body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["error"]["details"][0]["path"] == path
    response = org.post("east_mgr", url, {"action": "delegate", "to_user": org.ids["clerk"],
                                          "comment": "出差中，请代为审批"})
    assert response.status_code == 200, response.get_json()
    assert org.inbox("east_mgr") == []
    delegated = org.task("clerk")
    assert delegated["delegated_from"] == task["task_id"] and delegated["step"] == "regional"
    assert org.act("clerk", "approve", "代审同意").get_json()["current_step"] == "finance"
    [run] = org.trail(quote["id"])
    delegate = next(a for a in run["actions"] if a["action"] == "delegate")
    assert delegate["user"]["username"] == "east_mgr"
    assert delegate["to_user"]["username"] == "clerk"
    assert delegate["comment"] == "出差中，请代为审批"
    assert [t["status"] for t in run["steps"][0]["tasks"]] == ["delegated", "approved"]
    assert run["steps"][0]["status"] == "approved"


def test_return_to_an_earlier_step_and_to_the_submitter(org: Org) -> None:
    quote = org.quote("rep", price=80000)
    qid = quote["id"]
    # nothing to return to yet
    response = org.act("east_mgr", "return", "?", to_step="finance")
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["path"] == "to_step"
    assert org.act("east_mgr", "approve", "同意").status_code == 200
    assert org.act("fin1", "approve", "同意").status_code == 200
    response = org.act("gm", "return", "请区域经理再核实客户资质", to_step="regional")
    assert response.status_code == 200, response.get_json()
    run = response.get_json()
    assert run["status"] == "pending" and run["current_step"] == "regional"
    assert org.inbox("gm") == []
    task = org.task("east_mgr")
    assert task["step"] == "regional"
    assert org.act("east_mgr", "approve", "已核实").status_code == 200
    assert org.act("fin2", "approve", "同意").status_code == 200
    # the general manager returns it to the submitter this time: the run ends
    response = org.act("gm", "return", "请补充竞品报价后重新提交")
    assert response.get_json()["status"] == "returned"
    [run] = org.trail(qid)
    assert [t["visit"] for t in run["steps"][0]["tasks"]] == [1, 2]
    returns = [(a["step"], a["to"], a["comment"]) for a in run["actions"]
               if a["action"] == "return"]
    assert returns == [("gm", "regional", "请区域经理再核实客户资质"),
                       ("gm", "submitter", "请补充竞品报价后重新提交")]
    record = org.record(qid)
    assert record.get("approval_status") is None  # returned is not rejected
    # unlocked for the submitter, who resubmits explicitly
    response = org.client.patch(f"{QUOTES}/{qid}", json={
        "version": record["version"], "data": {"notes": "竞品报价 78000"}},
        headers=org.headers["rep"])
    assert response.status_code == 200
    response = org.post("rep", f"{QUOTES}/{qid}/approvals", {"chain": "low_price"})
    assert response.status_code == 201


def test_reject_with_on_reject_previous_goes_back_one_step(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers, on_reject="previous")
    org.quote("rep", price=80000)
    assert org.act("east_mgr", "approve").status_code == 200
    response = org.act("fin1", "reject", "请经理复核")
    assert response.get_json()["current_step"] == "regional"
    assert org.act("east_mgr", "reject", "确实不行").get_json()["status"] == "rejected"


def test_withdraw_only_by_the_submitter_before_anyone_acted(
        org: Org, process_events: list[Any]) -> None:
    first = org.quote("rep", price=80000)
    run_id = org.trail(first["id"])[0]["id"]
    url = f"/api/approvals/{run_id}/withdraw"
    assert org.post("east_mgr", url).status_code == 403
    response = org.post("rep", url, {"comment": "价格填错了"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    assert org.inbox("east_mgr") == []
    assert org.post("rep", url).status_code == 409
    assert [e.name for e in process_events] == ["approval_submitted", "approval_withdrawn"]
    record = org.record(first["id"])
    assert org.client.patch(f"{QUOTES}/{first['id']}", json={
        "version": record["version"], "data": {"notes": "改好了"}},
        headers=org.headers["rep"]).status_code == 200

    second = org.quote("rep", price=80000, name="第二份")
    assert org.act("east_mgr", "approve", "同意").status_code == 200
    run_id = org.trail(second["id"])[0]["id"]
    response = org.post("rep", f"/api/approvals/{run_id}/withdraw")
    assert response.status_code == 409
    assert org.trail(second["id"])[0]["status"] == "pending"


def test_the_submitter_never_approves_their_own_step(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers)
    # fin1 (finance) submits a quote: finance's task goes to fin2 only
    assert client.patch(f"/api/admin/users/{org.ids['fin1']}", json={"roles": ["finance"]},
                        headers=admin_headers).status_code == 200
    team = client.get("/api/admin/teams", headers=admin_headers).get_json()
    east = next(t for t in team if t["key"] == "east")
    assert client.patch(f"/api/admin/teams/{east['id']}", json={
        "members": [org.ids["rep"], org.ids["rep2"], org.ids["fin1"]]},
        headers=admin_headers).status_code == 200
    quote = org.quote("fin1", price=80000)
    assert org.act("east_mgr", "approve").status_code == 200
    assert org.inbox("fin1") == [] and org.task("fin2")["record"]["id"] == quote["id"]
    task = org.task("fin2")
    response = org.post("fin2", f"/api/approvals/tasks/{task['task_id']}",
                        {"action": "delegate", "to_user": org.ids["fin1"]})
    assert response.status_code == 422  # not to the submitter either
    # someone else's task is not the submitter's to decide
    response = org.post("fin1", f"/api/approvals/tasks/{task['task_id']}",
                        {"action": "approve"})
    assert response.status_code == 403

    # when the submitter is the only one who could approve a step, the save is refused
    assert client.patch(f"/api/admin/users/{org.ids['fin2']}", json={"roles": []},
                        headers=admin_headers).status_code == 200
    response = org.post("fin1", QUOTES, {"data": {"name": "自批", "list_price": 100,
                                                  "price": 50}})
    assert response.status_code == 422, response.get_json()
    [problem] = response.get_json()["error"]["details"]
    assert problem["path"] == "steps[1].approver" and problem["code"] == "no_approver"
    assert "财务主管" in problem["message"]
    listed = org.get("admin", QUOTES, query_string={"q": "自批"}).get_json()["items"]
    assert listed == []  # nothing was stored


def test_allow_self_approval_lets_the_submitter_decide(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers, allow_self_approval=True,
               steps=[{"key": "finance", "approver": {"type": "role", "role": "finance"},
                       "mode": "all"}])
    quote = org.quote("fin1", price=80000)
    assert org.task("fin1")["record"]["id"] == quote["id"]
    assert org.act("fin1", "approve", "自审").status_code == 200
    assert org.act("fin2", "approve").get_json()["status"] == "approved"


def test_step_conditions_skip_steps_with_a_trail_entry(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers, steps=_steps(
        gm={"when": {">": [{"var": "price"}, 500000]}}))
    small = org.quote("rep", price=80000)
    org.act("east_mgr", "approve")
    response = org.act("fin1", "approve")
    run = response.get_json()
    assert run["status"] == "approved"
    assert run["steps"][2]["status"] == "skipped"
    skip = next(a for a in run["actions"] if a["action"] == "skip")
    assert skip["step"] == "gm" and skip["reason"] == "condition" and skip["user"]
    assert org.record(small["id"])["approval_status"] == "approved"
    big = org.quote("rep", price=600000, list_price=1000000, name="大单")
    org.act("east_mgr", "approve", record_id=big["id"])
    org.act("fin1", "approve", record_id=big["id"])
    assert org.task("gm")["record"]["id"] == big["id"]


def test_a_step_nobody_can_approve_fails_or_is_skipped_visibly(
        client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> None:
    org = _org(client, admin, admin_headers, auth_headers)
    # clerk is in no team: no manager to approve the first step
    response = org.post("clerk", QUOTES, {"data": {"name": "无主管", "list_price": 100,
                                                   "price": 10}})
    assert response.status_code == 422
    problem = response.get_json()["error"]["details"][0]
    assert problem["path"] == "steps[0].approver"
    assert "区域经理" in problem["message"]

    chain = low_price_chain(steps=_steps(regional={"if_no_approver": "skip"},
                                         finance={"if_no_approver": "admins"}))
    republish(org, chain)
    for name in ("fin1", "fin2"):
        client.patch(f"/api/admin/users/{org.ids[name]}", json={"roles": []},
                     headers=admin_headers)
    quote = org.quote("clerk", price=10, list_price=100, name="无主管")
    [run] = org.trail(quote["id"])
    assert run["current_step"] == "finance"
    assert run["steps"][0]["status"] == "skipped"
    assert [(a["action"], a["step"], a.get("reason")) for a in run["actions"]][:2] == [
        ("submit", None, None), ("skip", "regional", "no_approver")]
    # nobody holds the finance role: the tenant admins get the step
    assert org.task("admin")["step"] == "finance"
