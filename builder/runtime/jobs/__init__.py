"""Background jobs and durable timers: RQ on Redis when ``REDIS_URL`` is set, in-process
threads otherwise. The database holds the state; Redis only carries ids.

- ``enqueue(func, *args, **kwargs)`` / ``submit(func, args, kwargs, tenant_id=...)``: run a
  module-level function later, tracked as a job run (``runs``). Called inside a database
  transaction, the job leaves when that transaction commits and is dropped if it rolls
  back. With ``JOBS_SYNC`` (tests), in-process jobs run in the calling thread, in a fresh
  application context, and their exceptions propagate.
- ``report_progress(done, total, message)`` from inside a running job.
- ``timers.schedule / cancel / pending / run_due / sweep`` and ``@timer_handler(kind)``:
  work due at a moment, fired exactly once (``timers``).
- ``scheduler``: periodic jobs declared as data; ``worker``: RQ workers.
"""

from __future__ import annotations

from flask import Flask

from builder.runtime.jobs import timers
from builder.runtime.jobs.runs import (
    JobCancelled,
    current_run_id,
    enqueue,
    job,
    report_progress,
    submit,
)
from builder.runtime.jobs.timers import DueTimer, TimerHandler, timer_handler, timer_handlers
from builder.runtime.jobs.transport import (
    DEFAULT_QUEUE,
    EXTENSION,
    Jobs,
    get_jobs,
    on_commit,
    run_in_app,
)
from builder.runtime.jobs.transport import init_app as _init_transport
from builder.runtime.jobs.worker import AppSimpleWorker, AppWorker, run_worker, work

__all__ = [
    "DEFAULT_QUEUE", "EXTENSION", "AppSimpleWorker", "AppWorker", "DueTimer", "JobCancelled",
    "Jobs", "TimerHandler", "current_run_id", "enqueue", "get_jobs", "init_app", "job",
    "on_commit", "report_progress", "run_in_app", "run_worker", "submit", "timer_handler",
    "timer_handlers", "timers", "work",
]


def init_app(app: Flask) -> None:
    _init_transport(app)
