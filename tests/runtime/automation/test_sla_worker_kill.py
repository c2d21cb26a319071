"""Real ``builder worker`` processes (PostgreSQL + Redis) killed with SIGKILL in the middle
of each SLA escalation step (remind the owner, flag the lead, reassign it), then replaced:
every step still takes effect exactly once.

To catch a worker mid-run, the test holds a lock on the lead and notification tables
(reads pass, writes wait): the worker's run claims the step and blocks on its first write. The test
then kills the worker and everything it started, ends the dead worker's database session
(as a crashed host's connection would end), releases the lock and starts a new worker at
the same business time."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from builder import clock
from builder.extensions import db
from builder.runtime.automation.models import AutomationRun
from builder.runtime.jobs.models import JobRun, Timer
from builder.runtime.notify.models import Delivery
from builder.runtime.storage.tables import entity_store
from tests.runtime.automation.helpers import APP, get_record, new_lead
from tests.runtime.automation.test_sla_escalation import inbox, sales_setup
from tests.runtime.jobs.test_worker_process import ROOT, wait_for, worker_env

MONDAY = datetime(2026, 9, 21, tzinfo=ZoneInfo("Asia/Shanghai"))


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (RQ's work horse runs in a session of its own)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(
        f"/proc/{pid}/stat").read_text()


class Worker:
    """One ``builder worker`` process and everything it starts."""

    def __init__(self, env: dict[str, str], log: IO[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "builder", "worker"], cwd=ROOT,
            env={**env, **clock.environ()}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker, its sweeper and its work horse at once."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        for pid in pids:
            wait_for(lambda pid=pid: not alive(pid), f"process {pid} to die")

    def stop(self) -> None:
        if self.process.returncode is None:
            self.kill()


@pytest.fixture
def start_worker(app: Any, tmp_path: Path) -> Iterator[Callable[[], Worker]]:
    env = worker_env(app, tmp_path)
    started: list[Worker] = []
    with (tmp_path / "workers.log").open("w") as log:

        def start() -> Worker:
            worker = Worker(env, log)
            started.append(worker)
            return worker

        try:
            yield start
        finally:
            for worker in started:
                worker.stop()
    print((tmp_path / "workers.log").read_text(errors="replace")[-5000:])


class TableLock:
    """A transaction of its own holding SHARE ROW EXCLUSIVE on tables: reads pass, every
    insert and update waits."""

    def __init__(self, tables: list[sa.Table]) -> None:
        self.connection = db.engine.connect()
        self.transaction = self.connection.begin()
        names = ", ".join(f'"{t.schema or "public"}"."{t.name}"' for t in tables)
        self.connection.execute(sa.text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))

    def waiters(self) -> list[int]:
        """Backends waiting for a lock (``pg_locks``: ``pg_stat_activity`` is a snapshot
        taken once per transaction, and this one stays open)."""
        return list(self.connection.execute(sa.text(
            "SELECT DISTINCT pid FROM pg_locks WHERE NOT granted")).scalars())

    def blocked(self, pattern: str) -> list[int]:
        """Waiting backends whose statement matches ``pattern`` (SQL ``LIKE``)."""
        self.connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        return list(self.connection.execute(sa.text(
            "SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
            "WHERE NOT l.granted AND a.query LIKE :pattern"), {"pattern": pattern}).scalars())

    def end_sessions(self, pids: list[int]) -> None:
        for pid in pids:
            self.connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    def release(self) -> None:
        if not self.connection.closed:
            self.transaction.rollback()
            self.connection.close()


@pytest.fixture
def lock_tables(app: Any) -> Iterator[Callable[[list[sa.Table]], TableLock]]:
    """``lock_tables(tables)``; every lock is released by the end of the test."""
    taken: list[TableLock] = []

    def take(tables: list[sa.Table]) -> TableLock:
        lock = TableLock(tables)
        taken.append(lock)
        return lock

    try:
        yield take
    finally:
        for lock in taken:
            lock.release()


def step_runs(tenant_id: int) -> list[tuple[str, str]]:
    db.session.commit()
    return [(r.trigger, r.status) for r in db.session.scalars(
        sa.select(AutomationRun).where(AutomationRun.tenant_id == tenant_id)
        .order_by(AutomationRun.id))]


def kill_mid_step(start_worker: Callable[[], Worker], lock: TableLock, tenant_id: int,
                  step: str, write: str) -> None:
    """Start a worker, wait until the step's run blocks on its ``write`` (a ``LIKE``
    pattern of the statement), kill the worker, end its sessions, release the lock."""
    worker = start_worker()
    wait_for(lambda: lock.blocked(write), f"the {step} run to block on its write")
    assert (f"escalation:{step}", "pending") in step_runs(tenant_id)
    worker.kill()
    lock.end_sessions(lock.waiters())
    wait_for(lambda: not lock.waiters(), "the dead worker's session to end")
    assert (f"escalation:{step}", "pending") in step_runs(tenant_id)  # rolled back
    lock.release()


def test_killed_workers_fire_each_sla_step_exactly_once(
        app: Any, client: Any, admin_headers: Any, make_user: Any, auth_headers: Any,
        tenant: Any, start_worker: Callable[[], Worker],
        lock_tables: Callable[[list[sa.Table]], TableLock]) -> None:
    rep, rep2 = sales_setup(client, admin_headers, make_user, tenant)
    clock.travel_to(MONDAY + timedelta(hours=10))
    lead = new_lead(client, auth_headers(rep), name="苏州机床")
    tables = [entity_store(tenant.id, APP, "lead").table, Delivery.__table__]
    update_lead = f"UPDATE %{tables[0].name} SET %"

    # 11:30 the reminder: the worker dies while writing the notification
    clock.travel_to(MONDAY + timedelta(hours=11, minutes=30))
    lock = lock_tables(tables)
    kill_mid_step(start_worker, lock, tenant.id, "remind", "INSERT INTO notify_deliveries%")
    assert inbox(client, auth_headers(rep)) == []
    replacement = start_worker()
    wait_for(lambda: ("escalation:remind", "succeeded") in step_runs(tenant.id),
             "the reminder to run in the new worker")
    replacement.kill()
    assert inbox(client, auth_headers(rep)) == ["线索即将超时：苏州机床"]
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None

    # 12:00 the red flag: the worker dies while updating the lead
    clock.travel_to(MONDAY + timedelta(hours=12))
    lock = lock_tables(tables)
    kill_mid_step(start_worker, lock, tenant.id, "flag", update_lead)
    assert get_record(client, admin_headers, "lead", lead["id"])["flagged"] is None
    replacement = start_worker()
    wait_for(lambda: ("escalation:flag", "succeeded") in step_runs(tenant.id),
             "the flag to run in the new worker")
    replacement.kill()

    # 13:00 the reassignment: the worker dies while handing the lead over
    clock.travel_to(MONDAY + timedelta(hours=13))
    lock = lock_tables(tables)
    kill_mid_step(start_worker, lock, tenant.id, "reassign", update_lead)
    assert get_record(client, admin_headers, "lead", lead["id"])["owner"] == rep.id
    worker = start_worker()
    wait_for(lambda: ("escalation:reassign", "succeeded") in step_runs(tenant.id),
             "the reassignment")
    time.sleep(1.5)  # several more sweeps: nothing fires again
    worker.kill()

    assert step_runs(tenant.id) == [("escalation:remind", "succeeded"),
                                    ("escalation:flag", "succeeded"),
                                    ("escalation:reassign", "succeeded")]
    assert inbox(client, auth_headers(rep)) == ["线索即将超时：苏州机床"]
    lead = get_record(client, admin_headers, "lead", lead["id"])
    assert (lead["flagged"], lead["owner"]) == (True, rep2.id)
    history = client.get(f"/api/apps/{APP}/lead/records/{lead['id']}/history",
                         headers=admin_headers).get_json()["items"]
    assert [(h["action"], sorted(h["changes"])) for h in history] == [
        ("update", ["owner"]), ("update", ["flagged"]), ("create", ["name", "owner", "status"])]
    db.session.commit()
    fired = db.session.scalars(sa.select(Timer).where(
        Timer.tenant_id == tenant.id, Timer.kind == "sla.escalate")).all()
    assert sorted((t.key.rsplit(":", 1)[1], t.status, t.attempts) for t in fired) == [
        ("flag", "fired", 1), ("reassign", "fired", 1), ("remind", "fired", 1)]
    # the job of each killed step was started twice: killed once, then finished
    job_runs = db.session.scalars(sa.select(JobRun).where(
        JobRun.tenant_id == tenant.id, JobRun.name == f"automation {APP}.first_response")
        .order_by(JobRun.created_at)).all()
    assert [(r.status, r.attempts) for r in job_runs] == [("finished", 2)] * 3
