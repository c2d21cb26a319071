"""RQ workers that run each job inside the app, and ``builder worker``'s main loop."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker, Worker
from rq.job import Job

from builder.extensions import db
from builder.runtime.jobs.scheduler import Scheduler, start_sweeper
from builder.runtime.jobs.transport import get_jobs, run_in_app

log = logging.getLogger(__name__)
# Waits between attempts to reach Redis again after it went away, in seconds.
RECONNECT_WAITS = (1, 2, 4, 8, 15)


class _AppWorkerMixin:
    """Runs each job inside the app's context; set ``app`` before ``work()``."""

    app: Flask

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:
        return bool(run_in_app(self.app, super().perform_job, job, queue,  # type: ignore[misc]
                               execution))


class AppWorker(_AppWorkerMixin, Worker):
    """RQ's forking worker: each job runs in a child process."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        # The child must not reuse database connections inherited from the parent.
        run_in_app(self.app, lambda: db.engine.dispose(close=False))
        super().main_work_horse(job, queue)


class AppSimpleWorker(_AppWorkerMixin, SimpleWorker):
    """Runs jobs in the worker's own process (tests, debugging)."""


def run_worker(app: Flask, burst: bool = False, *, fork: bool = True) -> bool:
    """Work the app's queue with RQ's scheduler; ``burst`` stops once the queue is empty.

    Returns whether any job was processed.
    """
    jobs = get_jobs(app)
    worker_class: type[AppWorker | AppSimpleWorker] = AppWorker if fork else AppSimpleWorker
    worker = worker_class([jobs.queue()], connection=jobs.connection(),
                          name=f"{jobs.prefix}-{uuid.uuid4().hex[:12]}")
    worker.app = app
    return worker.work(burst=burst, with_scheduler=True)


def work(app: Flask, burst: bool = False) -> bool:
    """``builder worker``: reconcile (sweep what is due and what was lost), then run the
    RQ worker with RQ's scheduler, and the periodic jobs in a process beside it."""
    if burst:
        Scheduler(app).tick(reconcile=True)
        return run_worker(app, burst=True)
    sweeper = start_sweeper(app)
    try:
        return _run_through_outages(app)
    finally:
        sweeper.terminate()
        sweeper.join(10)


def _run_through_outages(app: Flask) -> bool:
    """Run the RQ worker; when Redis goes away, wait and start a new worker once it is
    back, instead of exiting. Whatever Redis lost with it, the sweeper sends again from the
    database (timers and job runs are rows)."""
    failures = 0
    while True:
        try:
            return run_worker(app)
        except (RedisConnectionError, RedisTimeoutError) as error:
            wait = RECONNECT_WAITS[min(failures, len(RECONNECT_WAITS) - 1)]
            failures += 1
            log.warning("Redis unavailable (%s); the worker tries again in %s s", error, wait)
            time.sleep(wait)
