"""How work leaves this process: RQ on Redis when ``REDIS_URL`` is set, threads otherwise.

The transport carries only ids (a job run's id, a timer's id): what to run, and whether
it already ran, is in the database. ``on_commit(callback)`` defers a send until the
caller's transaction commits and drops it on rollback, so a worker never looks for a row
that is not committed yet, and never acts on work that was undone.
"""

from __future__ import annotations

import contextvars
import logging
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from builder import clock
from builder.extensions import db

log = logging.getLogger(__name__)

EXTENSION = "builder.jobs"
DEFAULT_QUEUE = "default"
DEFAULT_TIMEOUT = 3600  # seconds a job may run on an RQ worker before RQ stops it
_PENDING = "builder.jobs.pending"
_FAILED = "builder.jobs.failed"


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

    @property
    def sync(self) -> bool:
        return bool(self.app.config.get("JOBS_SYNC"))

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

    def job_id(self, *parts: object) -> str:
        """A deterministic RQ job id, e.g. ``job_id("timer", 42)``."""
        return "-".join([self.prefix, *(str(part) for part in parts)])

    def rq_status(self, job_id: str) -> str | None:
        """The status RQ holds for ``job_id`` (``None`` if Redis does not know it)."""
        try:
            job = Job.fetch(job_id, connection=self.connection())
        except NoSuchJobError:
            return None
        status = job.get_status(refresh=False)
        return str(status.value) if status is not None else None

    def send(self, job_id: str, func: Callable[..., Any], args: tuple[Any, ...] = (),
             kwargs: dict[str, Any] | None = None, *, at: datetime | None = None,
             timeout: int = DEFAULT_TIMEOUT, description: str | None = None) -> None:
        """Run ``func(*args, **kwargs)`` now (or from ``at``, a business-clock time, on
        Redis). Without Redis, ``at`` is ignored: the caller's scheduler loop decides."""
        kwargs = kwargs or {}
        if self.uses_redis:
            try:
                self._send_to_redis(job_id, func, args, kwargs, at, timeout, description)
            except (RedisConnectionError, RedisTimeoutError) as error:
                # The work is in the database already: the sweep sends it once Redis is back.
                log.warning("Redis unavailable, job %s is left to the sweep: %s", job_id, error)
        elif self.sync:
            run_in_app(self.app, func, *args, **kwargs)
        else:
            if self._executor is None:
                workers = int(self.app.config.get("JOBS_THREADS", 4))
                self._executor = ThreadPoolExecutor(max_workers=workers,
                                                    thread_name_prefix="job")
            self._executor.submit(self._run_logged, job_id, func, args, kwargs)

    def _send_to_redis(self, job_id: str, func: Callable[..., Any], args: tuple[Any, ...],
                       kwargs: dict[str, Any], at: datetime | None, timeout: int,
                       description: str | None) -> None:
        queue = self.queue()
        wall = clock.to_wall(at) if at is not None else None
        registry = ScheduledJobRegistry(queue=queue)
        if wall is not None and wall > datetime.now(wall.tzinfo):
            job = queue.create_job(func, args=args, kwargs=kwargs, job_id=job_id,
                                   timeout=timeout, description=description,
                                   status=JobStatus.SCHEDULED)
            queue.schedule_job(job, wall)
        else:
            registry.remove(job_id)  # a later schedule of the same id is superseded
            queue.enqueue_call(func, args=args, kwargs=kwargs, job_id=job_id,
                               timeout=timeout, description=description)

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


# Settings (seconds unless named otherwise), from the app config, else the environment.
SETTINGS = {
    "SCHEDULER_INTERVAL": 5.0,  # how often the scheduler sweeps and fires due timers
    "JOB_HEARTBEAT_INTERVAL": 15.0,  # how often a running job's heartbeat is written
    "JOB_STALE_SECONDS": 120.0,  # a started run without a heartbeat for this long was lost
    "JOB_PROGRESS_INTERVAL": 0.5,  # progress is written at most this often
    "JOB_RETENTION_DAYS": 30.0,  # finished runs and past timers are kept this many days
}


def init_app(app: Flask) -> None:
    config = app.config["BUILDER"]
    app.config.setdefault("JOBS_SYNC", False)
    for name, default in SETTINGS.items():
        app.config.setdefault(name, float(os.environ.get(name) or default))
    app.extensions[EXTENSION] = Jobs(app, config.redis_url, config.redis_prefix)


def get_jobs(app: Flask | None = None) -> Jobs:
    jobs: Jobs = (app or current_app).extensions[EXTENSION]
    return jobs


def on_commit(callback: Callable[[], None]) -> None:
    """Call ``callback`` once the current transaction commits (at once outside one);
    forget it if the transaction rolls back."""
    session = db.session() if has_app_context() else None
    if session is not None and session.in_transaction():
        session.info.setdefault(_PENDING, []).append(callback)
    else:
        callback()


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT was released: the transaction goes on
    error: BaseException | None = None
    for callback in session.info.pop(_PENDING, []):
        try:
            callback()
        except Exception as failure:  # JOBS_SYNC: the job's own exception
            error = error or failure
    if error is not None:
        # Raised once the transaction is closed, so the session stays usable.
        session.info[_FAILED] = error


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended
        session.info.pop(_PENDING, None)
        error = session.info.pop(_FAILED, None)
        if error is not None:
            raise error
