"""A ``builder worker`` killed (SIGKILL, with its work horse) in the middle of a market
install running in the background: the run is not silently lost. The sweep of the next
worker marks it failed (the install job is not safe to start twice), ``/api/jobs`` shows
it with the reason, and the tenant holds nothing of the half-done install.

The retried case (a job declaring ``max_attempts`` > 1 finishes in the next worker) is
proven in ``tests/runtime/jobs/test_worker_process.py``; SLA steps in
``tests/runtime/automation/test_sla_worker_kill.py``. Needs PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from builder.designer.models import App
from builder.i18n import gettext, use_language
from tests.runtime.automation.test_sla_worker_kill import (  # noqa: F401 (fixtures)
    TableLock,
    lock_tables,
    start_worker,
)
from tests.runtime.jobs.test_worker_process import wait_for
from tests.trust.faults import database_state, differences
from tests.trust.figures import record

RUNS = ("job_runs", "api_tokens")


def blocked_here(lock: TableLock) -> list[int]:
    """Backends of this test's database waiting for a lock (other sessions' tests may
    share the server)."""
    lock.connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return list(lock.connection.execute(sa.text(
        "SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE NOT l.granted AND a.datname = current_database()")).scalars())


def job(client: Any, headers: dict[str, str], run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/jobs/{run_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_worker_killed_during_an_install_fails_the_run_visibly_and_keeps_nothing(
        app, client, admin_headers, start_worker, lock_tables):  # noqa: F811
    before = database_state(skip=RUNS)
    lock = lock_tables([App.__table__])  # the install blocks on its first write of an app
    response = client.post("/api/market/crm_starter/install", headers=admin_headers,
                           json={"demo_data": True, "background": True})
    assert response.status_code == 202, response.get_json()
    run_id = response.get_json()["job"]

    worker = start_worker()
    wait_for(lambda: blocked_here(lock), "the install to block on its write")
    assert job(client, admin_headers, run_id)["status"] == "started"
    worker.kill()
    lock.end_sessions(blocked_here(lock))  # the dead host's connection ends too
    wait_for(lambda: not blocked_here(lock), "the dead worker's session to end")
    lock.release()

    replacement = start_worker()
    wait_for(lambda: job(client, admin_headers, run_id)["status"] == "failed",
             "the sweep to find the lost run")
    replacement.kill()

    seen = job(client, admin_headers, run_id)
    with use_language("zh-CN"):
        assert seen["error"] == gettext("jobs.error.worker_lost")
    listed = client.get("/api/jobs", headers=admin_headers,
                        query_string={"status": "failed"}).get_json()
    assert [(r["id"], r["name"]) for r in listed] == [(run_id, "market.install")]
    assert differences(before, database_state(skip=RUNS)) == []
    assert client.get("/api/market", headers=admin_headers).get_json()[0]["installed"] is None
    record("faults.worker_killed", faults_injected=1, records_lost=0, server_errors=0)
