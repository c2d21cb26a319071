"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, in-process threads otherwise.

``enqueue(func, *args, **kwargs)`` is the one way to run something later. ``func`` must be
a module-level function (workers import it by name) and its arguments picklable. Jobs run
inside an application context of their own, with their own database session.

Called inside a database transaction, ``enqueue`` sends the job when that transaction
commits and drops it if it rolls back, so a job never sees data that was not committed
and never fires for work that was undone. Outside a transaction the job is sent at once.

With ``JOBS_SYNC`` set (tests), in-process jobs run in the calling thread, still in a
fresh application context, and their exceptions propagate.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from builder.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "builder.jobs"
DEFAULT_QUEUE = "default"
_PENDING = "builder.jobs.pending"


def run_in_app(app: Flask, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` in a new application context (hence a new session), isolated from any
    context the caller has pushed."""

    def call() -> Any:
        with app.app_context():
            return func(*args, **kwargs)

    return contextvars.Context().run(call)


class Jobs:
    """The job transport of one app: an RQ queue or a thread pool."""

    def __init__(self, app: Flask, redis_url: str | None, prefix: str) -> None:
        self.app = app
        self.redis_url = redis_url
        self.prefix = prefix
        self._redis: Redis | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def uses_redis(self) -> bool:
        return self.redis_url is not None

    def connection(self) -> Redis:
        if self.redis_url is None:
            raise RuntimeError("REDIS_URL is not configured")
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url)
        return self._redis

    def queue(self, name: str = DEFAULT_QUEUE) -> Queue:
        """The RQ queue ``name``, namespaced by ``REDIS_PREFIX``."""
        return Queue(f"{self.prefix}:{name}", connection=self.connection())

    def new_id(self) -> str:
        # Prefixed so every Redis key of a job carries REDIS_PREFIX (tests clean up by it).
        return f"{self.prefix}-{uuid.uuid4().hex}"

    def send(self, job_id: str, func: Callable[..., Any], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> None:
        if self.uses_redis:
            self.queue().enqueue_call(func, args=args, kwargs=kwargs, job_id=job_id)
        elif self.app.config.get("JOBS_SYNC"):
            run_in_app(self.app, func, *args, **kwargs)
        else:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="job")
            self._executor.submit(self._run_logged, job_id, func, args, kwargs)

    def _run_logged(self, job_id: str, func: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> None:
        try:
            run_in_app(self.app, func, *args, **kwargs)
        except Exception:
            log.exception("job %s (%s) failed", job_id, getattr(func, "__name__", func))

    def wait(self) -> None:
        """Block until the in-process jobs sent so far have finished."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def close(self) -> None:
        self.wait()
        if self._redis is not None:
            self._redis.close()
            self._redis = None


def init_app(app: Flask) -> None:
    config = app.config["BUILDER"]
    app.config.setdefault("JOBS_SYNC", False)
    app.extensions[EXTENSION] = Jobs(app, config.redis_url, config.redis_prefix)


def get_jobs(app: Flask | None = None) -> Jobs:
    jobs: Jobs = (app or current_app).extensions[EXTENSION]
    return jobs


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``func(*args, **kwargs)`` in the background; returns the job id.

    Inside a transaction the job leaves when the transaction commits (see the module doc).
    """
    jobs = get_jobs()
    job_id = jobs.new_id()
    session = db.session() if has_app_context() else None
    if session is not None and session.in_transaction():
        session.info.setdefault(_PENDING, []).append((jobs, job_id, func, args, kwargs))
    else:
        jobs.send(job_id, func, args, kwargs)
    return job_id


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for jobs, job_id, func, args, kwargs in session.info.pop(_PENDING, []):
        jobs.send(job_id, func, args, kwargs)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended without a commit
        session.info.pop(_PENDING, None)


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
