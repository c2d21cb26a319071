"""Redis stopped (killed, losing everything it held) while timers are due, then started
again: a running ``builder worker`` fires every timer exactly once, those sent before the
outage and those scheduled during it, and a job submitted during it finishes once.

The test runs a Redis server of its own on a free port (never the shared one), and a real
worker process on PostgreSQL; it skips without them."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from builder import clock
from builder.app import create_app
from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.jobs import timers
from builder.runtime.jobs.models import JobRun, Timer
from tests.runtime.jobs.handlers import RECORD, count_to, effects, registered, reloaded
from tests.runtime.jobs.test_worker_process import Workers, wait_for, worker_env
from tests.trust.figures import record


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A throw-away ``redis-server`` without persistence: stopping it loses its data."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with Redis.from_url(self.url) as client:
            wait_for(lambda: self._pings(client), "redis-server to start", 30)

    @staticmethod
    def _pings(client: Redis) -> bool:
        try:
            return bool(client.ping())
        except OSError:
            return False
        except Exception:  # redis' own ConnectionError while it starts
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            self.process.wait(30)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def outage_app(app: Any, make_config: Any, own_redis: RedisServer, tmp_path: Path
               ) -> Iterator[Any]:
    """An app on the test's database whose jobs go through ``own_redis``."""
    config = app.config["BUILDER"]
    other = create_app(make_config(tmp_path / "outage", config.database_url,
                                   redis_url=own_redis.url,
                                   redis_prefix=f"trust_{uuid.uuid4().hex[:8]}"))
    with other.app_context():
        yield other
        db.session.rollback()
    jobs.get_jobs(other).close()
    with other.app_context():
        db.engine.dispose()


def schedule(tenant_id: int, label: str, count: int, due: Any) -> list[int]:
    ids = [timers.schedule(tenant_id, RECORD, due, key=f"{label}{n}") for n in range(count)]
    db.session.commit()
    return ids


def test_timers_due_while_redis_is_down_fire_exactly_once_when_it_is_back(
        outage_app, own_redis, tenant, tmp_path):
    env = {**worker_env(outage_app, tmp_path), **clock.environ()}
    with registered(), (tmp_path / "worker.log").open("w") as log:
        workers = Workers(env, log)
        try:
            _outage(workers, own_redis, tenant.id)
        finally:
            workers.close()
            print((tmp_path / "worker.log").read_text(errors="replace")[-5000:])


def _outage(workers: Workers, own_redis: RedisServer, tenant_id: int) -> None:
    workers.start()
    before = schedule(tenant_id, "before", 3, clock.now())
    wait_for(lambda: all(effects(t) for t in before), "the timers before the outage")

    soon = schedule(tenant_id, "soon", 3, clock.now() + timedelta(seconds=2))  # in RQ now
    own_redis.kill()
    during = schedule(tenant_id, "during", 3, clock.now())  # committed; Redis is away
    run_id = jobs.submit(count_to, (3,), tenant_id=tenant_id)
    db.session.commit()
    time.sleep(3)  # every timer is due now, and nothing can fire them
    assert [effects(t) for t in soon + during] == [0] * 6
    assert reloaded(JobRun, run_id).status == "queued"

    own_redis.start()  # empty: what it held before is gone
    wait_for(lambda: all(effects(t) for t in soon + during), "the timers after the outage")
    wait_for(lambda: reloaded(JobRun, run_id).status == "finished", "the job")
    time.sleep(2)  # several more sweeps: nothing fires again

    fired = {t: effects(t) for t in before + soon + during}
    timers_twice = [t for t, n in fired.items() if n != 1]
    assert timers_twice == [], fired
    assert {reloaded(Timer, t).attempts for t in fired} == {1}
    run = reloaded(JobRun, run_id)
    assert (run.status, run.attempts, run.result) == ("finished", 1, {"counted": 3})
    record("faults.redis_outage", faults_injected=1, records_lost=len(timers_twice),
           server_errors=0)
