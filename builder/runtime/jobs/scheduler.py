"""Periodic jobs, declared as data, and the loops that run them.

``PERIODIC_JOBS`` lists what runs on a period: the sweep (due timers to the workers,
lost job runs found) every ``SCHEDULER_INTERVAL`` seconds, and the purge of old runs and
timers once a day. A ``Scheduler`` runs each of them once at start-up (reconciling what
happened while nothing ran) and then on its period.

- ``builder serve`` without Redis runs a ``SchedulerThread``: timers fire in-process.
- ``builder worker`` runs the scheduler in a small process of its own next to the RQ
  worker (``start_sweeper``), so that no thread lives in the process RQ forks from.

With several workers, each period is run by one of them: the first to take the period's
Redis key (``SET NX`` with the period as expiry). Nothing depends on that for
correctness: the database decides whether a timer fires.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask

from builder import clock
from builder.extensions import db
from builder.runtime.jobs import runs, timers
from builder.runtime.jobs.transport import get_jobs, run_in_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """``func()`` (module-level, no arguments, run in an application context) every
    ``every`` seconds; ``every`` may name a config setting holding the seconds."""

    name: str
    func: Callable[[], Any]
    every: float | str

    def period(self, app: Flask) -> float:
        value = app.config.get(self.every, 5) if isinstance(self.every, str) else self.every
        return max(float(value), 0.05)


def sweep() -> None:
    """Due timers to the workers (or fired here without Redis); lost runs found."""
    timers.sweep()
    runs.sweep_runs()


def purge() -> None:
    """Forget finished runs and fired or cancelled timers older than
    ``JOB_RETENTION_DAYS`` (30 by default)."""
    from flask import current_app

    days = float(current_app.config["JOB_RETENTION_DAYS"])
    before = clock.now() - timedelta(days=days)
    runs.purge_runs(before)
    timers.purge_timers(before)


def retry_notifications() -> None:
    """Deliveries whose next attempt is due (failed ones backing off, and pending ones
    whose sending job was lost)."""
    from builder.runtime.notify import retry_due

    retry_due(clock.now())


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("jobs.sweep", sweep, "SCHEDULER_INTERVAL"),
    PeriodicJob("notify.retry", retry_notifications, "SCHEDULER_INTERVAL"),
    PeriodicJob("jobs.purge", purge, 24 * 3600),
]


class Scheduler:
    """Runs periodic jobs for one app when their period comes."""

    def __init__(self, app: Flask, periodic: Sequence[PeriodicJob] | None = None) -> None:
        self.app = app
        self.periodic = list(PERIODIC_JOBS if periodic is None else periodic)
        self._last: dict[str, float] = {}

    @property
    def interval(self) -> float:
        """How often to look: the shortest period."""
        return min(job.period(self.app) for job in self.periodic)

    def _take(self, job: PeriodicJob) -> bool:
        """Whether this process runs this period of ``job`` (always, without Redis)."""
        jobs = get_jobs(self.app)
        if not jobs.uses_redis:
            return True
        milliseconds = max(int(job.period(self.app) * 900), 50)
        key = f"{jobs.prefix}:periodic:{job.name}"
        return bool(jobs.connection().set(key, os.getpid(), nx=True, px=milliseconds))

    def tick(self, *, reconcile: bool = False) -> list[str]:
        """Run every periodic job whose period has come (all of them with ``reconcile``);
        returns the names run. A failing job is logged and tried next period."""
        done = []
        for job in self.periodic:
            last = self._last.get(job.name)
            due = last is None or time.monotonic() - last >= job.period(self.app)
            if not (reconcile or due):
                continue
            self._last[job.name] = time.monotonic()
            try:
                if reconcile or self._take(job):
                    run_in_app(self.app, job.func)
                    done.append(job.name)
            except Exception:  # Redis or the database away: try again next period
                log.exception("periodic job %s failed", job.name)
        return done

    def run(self, stop: threading.Event, should_go_on: Callable[[], bool] = lambda: True
            ) -> None:
        """Reconcile, then tick until ``stop`` is set or ``should_go_on()`` turns false."""
        self.tick(reconcile=True)
        while not stop.wait(self.interval) and should_go_on():
            self.tick()


class SchedulerThread(threading.Thread):
    """The in-process scheduler of ``builder serve`` (the embedded default)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.scheduler = Scheduler(app)
        self.stopping = threading.Event()

    def run(self) -> None:
        self.scheduler.run(self.stopping)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def _sweeper_main(app: Flask, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when to stop
    with app.app_context():
        db.engine.dispose(close=False)  # never share the parent's connections
    get_jobs(app)._redis = None
    Scheduler(app).run(threading.Event(), lambda: os.getppid() == parent)


def start_sweeper(app: Flask) -> multiprocessing.process.BaseProcess:
    """Start the scheduler in a child process; it ends when its parent does."""
    process = multiprocessing.get_context("fork").Process(
        target=_sweeper_main, args=(app, os.getpid()), name="builder-sweeper", daemon=True)
    process.start()
    return process
