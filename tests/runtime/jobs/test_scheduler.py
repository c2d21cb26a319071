"""Periodic jobs: run once at start-up, then on their period, one process per period when
several share Redis; ``builder serve`` without Redis fires timers from its own thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from builder import clock
from builder.app import create_app
from builder.extensions import db
from builder.platform.models import Tenant
from builder.runtime import jobs
from builder.runtime.jobs import timers
from builder.runtime.jobs.models import Timer
from builder.runtime.jobs.scheduler import PERIODIC_JOBS, PeriodicJob, Scheduler
from tests.runtime.jobs.handlers import RECORD

ROOT = Path(__file__).resolve().parents[3]


def test_periodic_jobs_are_declared_as_data():
    assert [(job.name, job.every) for job in PERIODIC_JOBS] == [
        ("jobs.sweep", "SCHEDULER_INTERVAL"), ("notify.retry", "SCHEDULER_INTERVAL"),
        ("jobs.purge", 86400)]


def test_the_scheduler_reconciles_then_runs_each_job_on_its_period(app):
    ran: list[str] = []
    periodic = [PeriodicJob("often", lambda: ran.append("often"), 0.2),
                PeriodicJob("daily", lambda: ran.append("daily"), 86400)]
    first, second = Scheduler(app, periodic), Scheduler(app, periodic)

    assert first.tick(reconcile=True) == ["often", "daily"]
    assert first.tick() == []  # nothing is due yet
    time.sleep(0.25)
    assert first.tick() == ["often"]
    if jobs.get_jobs(app).uses_redis:
        second.tick(reconcile=True)
        time.sleep(0.25)
        assert second.tick() == ["often"]
        assert first.tick() == []  # the other process took this period
    assert ran.count("daily") == 1 + jobs.get_jobs(app).uses_redis


def test_the_sweep_job_fires_due_timers_and_the_purge_forgets_old_ones(app, tenant, handlers,
                                                                       run_jobs):
    old = timers.schedule(tenant.id, RECORD, clock.now() - timedelta(days=40), key="old")
    due = timers.schedule(tenant.id, RECORD, clock.now(), key="due")
    db.session.commit()
    Scheduler(app).tick(reconcile=True)  # jobs.sweep, then jobs.purge
    run_jobs()  # on Redis, a worker fires what the sweep sent
    db.session.commit()
    fired = {t.id: t.status for t in db.session.scalars(sa.select(Timer))}
    assert fired[due] == "fired"
    assert fired[old] == "fired"  # fired just now: kept
    db.session.commit()
    clock.advance(timedelta(days=31))
    Scheduler(app).tick(reconcile=True)
    db.session.commit()
    assert db.session.scalars(sa.select(Timer.id)).all() == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_builder_serve_fires_timers_without_redis(tmp_path: Path, make_config):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", clock.ENV_VAR)}
    env.update({"BUILDER_INSTANCE": str(tmp_path / "instance"), "PORT": str(_free_port()),
                "BUILDER_ADMIN_PASSWORD": "serve-admin-pass", "BUILDER_LANG": "en",
                "SCHEDULER_INTERVAL": "0.2",
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    launcher = [sys.executable, "-m", "tests.runtime.jobs.launcher"]
    init = subprocess.run([*launcher, "init", "--tenant", "acme"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr

    other = create_app(make_config(tmp_path / "instance",
                                   f"sqlite:///{tmp_path / 'instance' / 'builder.db'}",
                                   redis_url=None))
    with other.app_context():
        tenant_id = db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == "acme"))
        already = timers.schedule(tenant_id, RECORD, clock.now(), key="already-due")
        later = timers.schedule(tenant_id, RECORD, clock.now() + timedelta(seconds=2),
                                key="in-two-seconds")
        db.session.commit()

    server = subprocess.Popen([*launcher, "serve"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with other.app_context():
            deadline = time.monotonic() + 60
            statuses: dict[int, str] = {}
            while time.monotonic() < deadline:
                statuses = {t.id: t.status for t in db.session.scalars(sa.select(Timer))}
                db.session.rollback()  # on SQLite, a transaction holds the write lock
                if statuses == {already: "fired", later: "fired"}:
                    break
                time.sleep(0.1)
            assert statuses == {already: "fired", later: "fired"}
            fired_at = db.session.get(Timer, later).fired_at  # type: ignore[union-attr]
            due_at = db.session.get(Timer, later).due_at  # type: ignore[union-attr]
            assert fired_at >= due_at
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr:
            server.stderr.close()
        with other.app_context():
            db.engine.dispose()
