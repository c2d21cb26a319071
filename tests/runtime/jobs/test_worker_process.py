"""Real ``builder worker`` processes (RQ, forking) killed with SIGKILL in the middle of a
timer and of a job, then replaced: the timer fires exactly once, and the job's run is
found by the sweep and finished by the new worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from builder import clock
from builder.database import is_sqlite
from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.jobs import timers
from builder.runtime.jobs.models import JobRun, Timer
from tests.runtime.jobs.handlers import BLOCK, blocking_job, effects, reloaded

ROOT = Path(__file__).resolve().parents[3]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def signal_group(group: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, sig)


class Workers:
    """Starts ``builder worker`` processes (with the test handlers), each in a session of
    its own with its sweeper. RQ's work horse starts a session of its own: a test kills
    it by the pid it wrote."""

    def __init__(self, env: dict[str, str], log: IO[str]) -> None:
        self.env, self.log = env, log
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.runtime.jobs.launcher", "worker"], cwd=ROOT,
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        signal_group(process.pid, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def kill_all(self, horses: tuple[int, ...]) -> None:
        """SIGKILL every worker (with its sweeper), then the work horses: nothing is left
        to notice, clean up or retry."""
        for process in self.processes:
            self.kill(process)
        for pid in horses:
            signal_group(pid, signal.SIGKILL)
            wait_for(lambda pid=pid: not alive(pid), f"process {pid} to die")

    def close(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                self.kill(process, signal.SIGTERM)
            signal_group(process.pid, signal.SIGKILL)  # the sweeper too


def worker_env(app: Any, folder: Path) -> dict[str, str]:
    """The environment of a worker process on the test's database and Redis prefix, with
    short sweep, heartbeat and staleness periods; skips without PostgreSQL and Redis.
    Add ``clock.environ()`` when it starts, so its clock agrees with the test's."""
    transport = jobs.get_jobs(app)
    if not transport.uses_redis or is_sqlite():
        pytest.skip("needs PostgreSQL and Redis (TEST_DATABASE_URL and REDIS_URL)")
    config = app.config["BUILDER"]
    env = {key: value for key, value in os.environ.items()
           if key not in ("TEST_DATABASE_URL", clock.ENV_VAR)}
    env.update({
        "DATABASE_URL": config.database_url, "REDIS_URL": config.redis_url,
        "REDIS_PREFIX": config.redis_prefix, "BUILDER_INSTANCE": str(folder / "worker"),
        "SECRET_KEY": "test", "BUILDER_LANG": "en", "SCHEDULER_INTERVAL": "0.3",
        "JOB_HEARTBEAT_INTERVAL": "0.3", "JOB_STALE_SECONDS": "3",
        "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    return env


@pytest.fixture
def workers(app, tmp_path: Path) -> Iterator[Workers]:
    env = {**worker_env(app, tmp_path), **clock.environ()}
    with (tmp_path / "workers.log").open("w") as log:
        pool = Workers(env, log)
        try:
            yield pool
        finally:
            pool.close()
    print((tmp_path / "workers.log").read_text(errors="replace")[-5000:])


def started(folder: Path, prefix: str) -> list[Path]:
    return sorted(folder.glob(f"{prefix}-*"))


def pid_of(marker: Path) -> int:
    return int(marker.name.rsplit("-", 1)[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_killed_workers_lose_nothing_and_fire_nothing_twice(app, tenant, workers, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "block").touch()
    timer_id = timers.schedule(tenant.id, BLOCK, clock.now(), {"folder": str(folder)},
                               key="blocking")
    run_id = jobs.submit(blocking_job, (str(folder),), tenant_id=tenant.id)
    db.session.commit()  # both leave for Redis now

    workers.start()
    workers.start()
    [timer_horse] = wait_for(lambda: started(folder, "timer-started"), "the timer to start")
    [job_horse] = wait_for(lambda: started(folder, "job-started"), "the job to start")
    assert reloaded(JobRun, run_id).status == "started"
    workers.kill_all(horses=(pid_of(timer_horse), pid_of(job_horse)))

    assert reloaded(Timer, timer_id).fired_at is None  # the killed firing was rolled back
    assert effects(timer_id) == 0
    (folder / "block").unlink()

    workers.start()  # reconciles at start-up, then sweeps every 0.3 s
    wait_for(lambda: reloaded(Timer, timer_id).fired_at is not None, "the timer to fire")
    wait_for(lambda: reloaded(JobRun, run_id).status == "finished", "the job to finish")

    time.sleep(1.5)  # several more sweeps: nothing fires again
    timer = reloaded(Timer, timer_id)
    assert timer.status == "fired" and timer.attempts == 1 and timer.last_error is None
    assert effects(timer_id) == 1
    assert len(started(folder, "timer-started")) == 2  # killed once, fired once
    run = reloaded(JobRun, run_id)
    assert run.attempts == 2 and run.result == "released"
    assert len(started(folder, "job-started")) == 2
