"""The job status API: a run's status, progress, result and error for whoever started it
and the tenant's admins, cancel, the admin's list of runs, and the timers admins see."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from builder import clock
from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.jobs import timers
from tests.runtime.jobs.handlers import FAIL, RECORD, count_to, explode


def test_a_job_run_is_visible_to_its_starter_and_admins_only(
        app, client, tenant, admin, admin_headers, make_user, make_tenant, auth_headers,
        run_jobs):
    rep = make_user(tenant, "rep")
    colleague = make_user(tenant, "colleague")
    stranger = make_user(make_tenant("other"), "admin", is_tenant_admin=True)
    run_id = jobs.submit(count_to, (3,), {"message": "导入"}, tenant_id=tenant.id,
                         user_id=rep.id, name="records.import")
    run_jobs()

    response = client.get(f"/api/jobs/{run_id}", headers=auth_headers(rep))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "finished" and body["name"] == "records.import"
    assert body["progress"] == {"done": 3, "total": 3, "message": "导入 3", "percent": 100.0}
    assert body["result"] == {"counted": 3} and body["error"] is None
    assert body["attempts"] == 1 and body["finished_at"]

    assert client.get(f"/api/jobs/{run_id}", headers=admin_headers).status_code == 200
    for outsider in (colleague, stranger):
        hidden = client.get(f"/api/jobs/{run_id}", headers=auth_headers(outsider))
        assert hidden.status_code == 404
        assert hidden.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/jobs/nope", headers=admin_headers).status_code == 404


def test_admins_list_runs_by_status_and_see_errors(app, client, tenant, admin, admin_headers,
                                                   make_user, auth_headers, run_jobs):
    finished = jobs.submit(count_to, (1,), tenant_id=tenant.id, user_id=admin.id)
    db.session.execute(db.select(1))
    failed = jobs.submit(explode, ("第 3 行缺少客户名称",), tenant_id=tenant.id)
    with contextlib.suppress(ValueError):  # in-process, the job's exception reaches here
        run_jobs()

    everything = client.get("/api/jobs", headers=admin_headers).get_json()
    assert {run["id"] for run in everything} == {finished, failed}
    only_failed = client.get("/api/jobs?status=failed", headers=admin_headers).get_json()
    assert [run["id"] for run in only_failed] == [failed]
    assert only_failed[0]["error"] == "ValueError: 第 3 行缺少客户名称"

    bad = client.get("/api/jobs?status=exploded", headers=admin_headers)
    assert bad.status_code == 422
    assert bad.get_json()["error"]["details"][0]["path"].endswith("status")
    rep = make_user(tenant, "rep")
    assert client.get("/api/jobs", headers=auth_headers(rep)).status_code == 403


def test_cancel_over_the_api(app, client, tenant, admin, admin_headers, run_jobs):
    db.session.execute(db.select(1))
    queued = jobs.submit(count_to, (2,), tenant_id=tenant.id, user_id=admin.id)
    db.session.flush()
    # The request commits the test's transaction first: in-process, the job runs then.
    response = client.post(f"/api/jobs/{queued}/cancel", headers=admin_headers)
    run_jobs()
    body = client.get(f"/api/jobs/{queued}", headers=admin_headers).get_json()
    if jobs.get_jobs(app).uses_redis:
        assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
        assert body["status"] == "cancelled" and body["result"] is None
    else:
        assert response.status_code == 409  # it had already finished
        assert body["status"] == "finished"
    again = client.post(f"/api/jobs/{queued}/cancel", headers=admin_headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_admins_see_pending_and_failed_timers_and_retry_a_failed_one(
        app, client, tenant, admin_headers, make_user, make_tenant, auth_headers, handlers):
    other = make_tenant("other")
    now = clock.travel_to(clock.now(), frozen=True)
    soon = timers.schedule(tenant.id, RECORD, now + timedelta(days=1), {"lead": 1},
                           key="sla:lead:1")
    broken = timers.schedule(tenant.id, FAIL, now - timedelta(minutes=1), key="notify:9")
    timers.schedule(other.id, RECORD, now, key="theirs")
    db.session.commit()
    for _ in range(3):  # FAIL gives up after 3 attempts, 1 then 2 minutes apart
        timers.run_due()
        clock.advance(timedelta(minutes=10))

    listed = client.get("/api/timers", headers=admin_headers).get_json()
    assert [(t["id"], t["status"]) for t in listed] == [(broken, "failed"), (soon, "pending")]
    failed = listed[0]
    assert failed["attempts"] == 3 and "RuntimeError: refused notify:9" in failed["last_error"]
    assert listed[1]["payload"] == {"lead": 1} and listed[1]["key"] == "sla:lead:1"
    only_pending = client.get("/api/timers?status=pending", headers=admin_headers).get_json()
    assert [t["id"] for t in only_pending] == [soon]

    retried = client.post(f"/api/timers/{broken}/retry", headers=admin_headers)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["status"] == "pending" and retried.get_json()["attempts"] == 0
    assert client.post(f"/api/timers/{broken}/retry", headers=admin_headers).status_code == 409
    assert client.post(f"/api/timers/{soon + 1000}/retry",
                       headers=admin_headers).status_code == 404

    rep = make_user(tenant, "rep")
    assert client.get("/api/timers", headers=auth_headers(rep)).status_code == 403
