"""Two workers distributing the same backlog at once, with reps claiming meanwhile.

With ``REDIS_URL`` the runs are RQ jobs worked by two real ``builder worker`` processes
(PostgreSQL when ``TEST_DATABASE_URL`` says so); without, two in-process job threads on
SQLite. Either way no lead may be given twice and every lead ends up with someone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.automation.assignment_models import AssignmentLog, AssignmentRun
from tests.runtime.automation.assignment_helpers import (
    assignments_per_record,
    owners,
    publish_leads,
    reps,
    system_leads,
    url,
)

pytestmark = pytest.mark.slow


def _worker_processes(app: Any, count: int, folder: Path) -> list[subprocess.Popen[str]]:
    config = app.config["BUILDER"]
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env.update({"DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url,
                "REDIS_PREFIX": config.redis_prefix, "SECRET_KEY": "test",
                "BUILDER_INSTANCE": str(folder)})
    return [subprocess.Popen([sys.executable, "-m", "builder", "worker", "--burst"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


@pytest.fixture
def two_workers(app: Any, tmp_path: Path) -> Callable[[Callable[[], None]], None]:
    """``two_workers(requests)``: make the job requests, then let two workers run them
    while the test goes on; returns once both are done."""

    def run(requests: Callable[[], None], meanwhile: Callable[[], None] = lambda: None
            ) -> None:
        runner = jobs.get_jobs(app)
        if not runner.uses_redis:
            app.config["JOBS_SYNC"] = False  # a thread per job, like two workers
            requests()
            meanwhile()
            runner.wait()
            return
        requests()
        workers = _worker_processes(app, 2, tmp_path / "workers")
        try:
            meanwhile()
            for worker in workers:
                _out, err = worker.communicate(timeout=600)
                assert worker.returncode == 0, err
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()

    return run  # type: ignore[return-value]


def _runs() -> list[AssignmentRun]:
    db.session.commit()
    return list(db.session.scalars(sa.select(AssignmentRun).order_by(AssignmentRun.id)))


def test_two_workers_distribute_one_backlog_without_giving_a_lead_twice(
        client, tenant, admin_headers, make_user, two_workers):
    team = reps(make_user, tenant, "sales", 5)
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False,
        "rules": [{"pool": {"team": "sales"}, "strategy": "round_robin"}]})
    system_leads(tenant, [{"name": f"线索{i}"} for i in range(1000)])

    def requests() -> None:
        for _ in range(2):
            response = client.post(url("/assign"), json={}, headers=admin_headers)
            assert response.status_code == 202, response.get_json()

    two_workers(requests)

    runs = _runs()
    assert [run.status for run in runs] == ["done", "done"]
    assert sum(run.assigned for run in runs) == 1000
    assert owners(tenant) == {user.id: 200 for user in team}
    per_record = assignments_per_record(tenant)
    assert len(per_record) == 1000 and set(per_record.values()) == {1}


def test_claims_during_distribution_never_double_assign(
        client, tenant, admin_headers, make_user, auth_headers, two_workers):
    team = reps(make_user, tenant, "sales", 4)
    claimer = team[0]
    publish_leads(client, admin_headers, {
        "key": "backlog", "on_create": False, "claim": {"pool": {"team": "sales"}},
        "rules": [{"pool": {"team": "sales"}, "strategy": "least_open"}]})
    leads = system_leads(tenant, [{"name": f"线索{i}"} for i in range(400)])
    headers = auth_headers(claimer)
    claimer_id = claimer.id
    outcomes: dict[int, int] = {}

    def requests() -> None:
        for _ in range(2):
            assert client.post(url("/assign"), json={}, headers=admin_headers
                               ).status_code == 202

    def claim_from_the_end() -> None:
        for lead in reversed(leads[200:]):  # the workers start from the other end
            response = client.post(url(f"/records/{lead['id']}/claim"), json={},
                                   headers=headers)
            outcomes[lead["id"]] = response.status_code
            if response.status_code == 409:
                assert response.get_json()["error"]["holder"] is not None

    def meanwhile() -> None:
        db.session.commit()
        thread = threading.Thread(target=claim_from_the_end)
        thread.start()
        thread.join()

    two_workers(requests, meanwhile)

    per_record = assignments_per_record(tenant)
    assert len(per_record) == 400 and set(per_record.values()) == {1}
    assert None not in owners(tenant) and sum(owners(tenant).values()) == 400
    claimed = set(db.session.scalars(sa.select(AssignmentLog.record_id).where(
        AssignmentLog.kind == "claim", AssignmentLog.to_user_id == claimer_id)))
    assert claimed == {lead_id for lead_id, code in outcomes.items() if code == 200}
    assert set(outcomes.values()) <= {200, 409}
    assert sum(run.assigned for run in _runs()) == 400 - len(claimed)


def test_concurrent_creates_keep_the_rotation_exact(client, tenant, admin_headers, make_user,
                                                   auth_headers):
    team = reps(make_user, tenant, "sales", 3)
    publish_leads(client, admin_headers, {"key": "inbound",
                                          "rules": [{"pool": {"team": "sales"}}]})
    creators = {name: auth_headers(make_user(tenant, name)) for name in ("web", "import")}
    db.session.commit()
    failures: list[Any] = []

    def create_leads(name: str) -> None:
        for i in range(30):
            response = client.post(url("/records"), json={"data": {"name": f"{name}{i}"}},
                                   headers=creators[name])
            if response.status_code != 201:
                failures.append(response.get_json())

    threads = [threading.Thread(target=create_leads, args=(name,)) for name in creators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert owners(tenant) == {user.id: 20 for user in team}
    assert set(assignments_per_record(tenant).values()) == {1}
