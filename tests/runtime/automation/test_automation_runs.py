"""The run log and loop protection: runs are listed per automation, a run's own writes do
not trigger it again, chains of automations stop at a depth, a run executes once."""

from __future__ import annotations

from typing import Any

from builder.runtime.automation.runner import execute_run
from builder.runtime.automation.runs import MAX_RUN_DEPTH
from tests.runtime.automation.helpers import (
    APP,
    automation,
    get_record,
    new_lead,
    runs,
    setup,
)
from tests.runtime.records.helpers import patch

BUMP = [{"type": "set_fields", "set": {"score": {"+": [{"var": "score"}, 1]}}}]


def test_a_run_does_not_trigger_its_own_automation(client: Any, admin_headers: Any,
                                                   run_jobs: Any) -> None:
    setup(client, admin_headers, automation("bump", {"type": "updated"}, BUMP))
    lead = new_lead(client, admin_headers, score=0)
    patch(client, admin_headers, "lead", lead, {"notes": "x"}, app=APP)
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["score"] == 1
    assert [r["status"] for r in runs(client, admin_headers, "bump")] == ["succeeded"]


def test_an_automation_that_retriggers_itself_stops_at_the_depth_limit(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers,
          automation("bump", {"type": "updated", "retrigger": True}, BUMP))
    lead = new_lead(client, admin_headers, score=0)
    patch(client, admin_headers, "lead", lead, {"notes": "x"}, app=APP)
    for _ in range(MAX_RUN_DEPTH + 2):
        run_jobs()
    found = runs(client, admin_headers, "bump")
    assert [r["depth"] for r in reversed(found)] == list(range(MAX_RUN_DEPTH + 2))
    assert [r["status"] for r in found] == ["skipped"] + ["succeeded"] * (MAX_RUN_DEPTH + 1)
    assert str(MAX_RUN_DEPTH) in found[0]["error"]
    assert get_record(client, admin_headers, "lead", lead["id"])["score"] == MAX_RUN_DEPTH + 1


def test_automations_triggering_each_other_stop_at_the_depth_limit(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers,
          automation("ping", {"type": "updated", "fields": ["score"]},
                     [{"type": "set_fields", "set": {"notes": {"cat": ["n", {"var": "score"}]}}}]),
          automation("pong", {"type": "updated", "fields": ["notes"]}, BUMP))
    lead = new_lead(client, admin_headers, score=0)
    patch(client, admin_headers, "lead", lead, {"score": 1}, app=APP)
    for _ in range(MAX_RUN_DEPTH + 2):
        run_jobs()
    ping = runs(client, admin_headers, "ping")
    pong = runs(client, admin_headers, "pong")
    assert sorted(r["depth"] for r in ping + pong) == list(range(MAX_RUN_DEPTH + 2))
    statuses = {r["depth"]: r["status"] for r in ping + pong}
    assert statuses[MAX_RUN_DEPTH + 1] == "skipped"
    assert all(statuses[d] == "succeeded" for d in range(MAX_RUN_DEPTH + 1))


def test_a_run_executes_once_however_often_its_job_is_delivered(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation("bump", {"type": "created"}, BUMP))
    lead = new_lead(client, admin_headers, score=0)
    run_jobs()
    [run] = runs(client, admin_headers, "bump")
    assert execute_run(run["id"]) is None  # the job delivered again: nothing to do
    assert get_record(client, admin_headers, "lead", lead["id"])["score"] == 1


def test_the_run_log_pages_filters_and_belongs_to_tenant_admins(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        make_tenant: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "bump", {"type": "created"}, BUMP, condition={"<": [{"var": "score"}, 100]}),
        automation("broken", {"type": "created"},
                   [{"type": "set_fields", "set": {"status": "nope"}}]))
    for score in (1, 2, 3):
        new_lead(client, admin_headers, score=score)
    run_jobs()
    first = client.get(f"/api/apps/{APP}/automations/bump/runs", headers=admin_headers,
                       query_string={"limit": 2}).get_json()
    assert len(first["items"]) == 2 and first["next_before"] is not None
    rest = runs(client, admin_headers, "bump", before=first["next_before"])
    assert len(rest) == 1 and rest[0]["id"] < first["items"][-1]["id"]
    assert runs(client, admin_headers, "broken", status="succeeded") == []
    assert len(runs(client, admin_headers, "broken", status="failed")) == 3
    record_id = rest[0]["record_id"]
    assert [r["record_id"] for r in runs(client, admin_headers, "bump",
                                         record_id=record_id)] == [record_id]
    rep = make_user(tenant, "rep")
    assert client.get(f"/api/apps/{APP}/automations/bump/runs",
                      headers=auth_headers(rep)).status_code == 403
    other_admin = make_user(make_tenant("other"), "boss", is_tenant_admin=True)
    assert client.get(f"/api/apps/{APP}/automations/bump/runs",
                      headers=auth_headers(other_admin)).get_json()["items"] == []
    listed = client.get(f"/api/apps/{APP}/automations", headers=admin_headers).get_json()
    assert [(a["key"], a["trigger"]) for a in listed["items"]] == [
        ("bump", "created"), ("broken", "created")]
