"""Job runs: every enqueued job is a ``job_runs`` row from the moment it is enqueued.

The row holds the call (function reference and arguments, pickled), the state
(queued, started, finished, failed, cancelled), progress, result and error; Redis carries
only the run's id. A worker claims a run with a conditional UPDATE (queued to started),
so a run sent twice still runs once. While it runs, a heartbeat moves ``heartbeat_at``;
the periodic sweep (``sweep_runs``) finds runs whose heartbeat stopped (the worker was
killed) and sends them again (up to ``max_attempts`` starts) or marks them failed: a run
is never silently lost.

Long jobs call ``report_progress(done, total, message)``; it also tells them when someone
asked to cancel, by raising ``JobCancelled`` (the job's uncommitted work is rolled back).
"""

from __future__ import annotations

import contextvars
import json
import logging
import pickle
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app

from builder import clock
from builder.database import is_sqlite
from builder.errors import Conflict, NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.jobs.models import (
    CANCELLED_RUN,
    FAILED_RUN,
    FINISHED,
    QUEUED,
    STARTED,
    JobRun,
    rowcount,
)
from builder.runtime.jobs.transport import DEFAULT_TIMEOUT, get_jobs, on_commit, run_in_app

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

WORKER_LOST, CANCELLED_CODE = "worker_lost", "cancelled"
WAITING_IN_REDIS = ("queued", "scheduled", "deferred", "started")


class JobCancelled(Exception):
    """Raised by ``report_progress`` inside a job whose cancellation was requested."""


@dataclass(frozen=True)
class JobOptions:
    """Set on a job function by ``@job``: its display name, how many times it may be
    started when a worker is lost under it, and RQ's time limit in seconds."""

    name: str | None = None
    max_attempts: int = 1
    timeout: int = DEFAULT_TIMEOUT


def job(name: str | None = None, *, max_attempts: int = 1,
        timeout: int = DEFAULT_TIMEOUT) -> Callable[[F], F]:
    """Declare a job function. ``max_attempts`` > 1 lets the sweep start a run again when
    its worker died; only for jobs that are safe to repeat from the start."""

    def decorate(func: F) -> F:
        func.job_options = JobOptions(name, max(1, max_attempts), timeout)  # type: ignore[attr-defined]
        return func

    return decorate


def _options(func: Callable[..., Any]) -> JobOptions:
    options = getattr(func, "job_options", None)
    return options if isinstance(options, JobOptions) else JobOptions()


def job_name(func: Callable[..., Any]) -> str:
    return _options(func).name or f"{func.__module__}.{func.__qualname__}"


def submit(func: Callable[..., Any], args: Sequence[Any] = (),
           kwargs: dict[str, Any] | None = None, *, tenant_id: int | None = None,
           user_id: int | None = None, name: str | None = None,
           total: int | None = None) -> str:
    """Run ``func(*args, **kwargs)`` in the background and track it as a job run of
    ``tenant_id`` (started by ``user_id``); returns the run id.

    ``func`` must be a module-level function and the arguments picklable. Inside a
    transaction the run row is written in it and the job leaves when it commits.
    """
    jobs = get_jobs()
    options = _options(func)
    run_id = jobs.new_id()
    values = {"id": run_id, "tenant_id": tenant_id, "user_id": user_id,
              "name": (name or job_name(func))[:200], "status": QUEUED,
              "call": pickle.dumps((func, tuple(args), dict(kwargs or {}))),
              "progress_total": total, "attempts": 0, "max_attempts": options.max_attempts,
              "created_at": clock.now(), "heartbeat_at": clock.now()}
    session = db.session()
    if session.in_transaction():
        session.execute(sa.insert(JobRun).values(**values))
    else:
        with db.engine.begin() as connection:
            connection.execute(sa.insert(JobRun).values(**values))
    on_commit(lambda: send_run(run_id, options))
    return run_id


def enqueue(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run ``func(*args, **kwargs)`` in the background; returns the run (and job) id.

    The same as ``submit`` without a tenant: the run is recorded, visible to no tenant.
    """
    return submit(func, args, kwargs)


def send_run(run_id: str, options: JobOptions | None = None) -> None:
    """Hand the run to the transport (RQ job id = run id)."""
    options = options or JobOptions()
    get_jobs().send(run_id, execute, (run_id,), timeout=options.timeout,
                    description=options.name or run_id)


# --- running -------------------------------------------------------------------------------


@dataclass
class _Running:
    run_id: str
    attempt: int
    last_write: float = 0.0


_current: contextvars.ContextVar[_Running | None] = contextvars.ContextVar(
    "builder_job_run", default=None)


def current_run_id() -> str | None:
    """The id of the job run executing in this context, if any."""
    running = _current.get()
    return running.run_id if running is not None else None


def _write(statement: Any) -> Any:
    """Run ``statement`` in a short transaction of its own (progress, heartbeats, outcome);
    returns its first row when it returns rows."""
    with db.engine.begin() as connection:
        result = connection.execute(statement)
        return result.first() if result.returns_rows else None


def _finish(run_id: str, attempt: int, **values: Any) -> None:
    values.setdefault("finished_at", clock.now())
    _write(sa.update(JobRun)
           .where(JobRun.id == run_id, JobRun.attempts == attempt,
                  sa.or_(JobRun.status == STARTED, JobRun.error_code == WORKER_LOST))
           .values(**values))


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def execute(run_id: str) -> None:
    """Run a job run, once: claim it (queued to started), call the function, commit its
    session, record the outcome. Runs inside an application context."""
    now = clock.now()
    claimed = _write(
        sa.update(JobRun).where(JobRun.id == run_id, JobRun.status == QUEUED)
        .values(status=STARTED, started_at=now, heartbeat_at=now,
                attempts=JobRun.attempts + 1)
        .returning(JobRun.attempts, JobRun.call))
    if claimed is None:
        return  # cancelled, already run, or running elsewhere
    attempt, call = claimed
    token = _current.set(_Running(run_id, attempt))
    jobs = get_jobs()
    in_caller = jobs.sync and not jobs.uses_redis  # a test's thread: nothing to watch
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    heartbeat = None if in_caller else _Heartbeat(app, run_id, attempt)
    try:
        func, args, kwargs = pickle.loads(call)  # fails if the function no longer exists
        result = func(*args, **kwargs)
        db.session.commit()
    except JobCancelled:
        db.session.rollback()
        _finish(run_id, attempt, status=CANCELLED_RUN, error_code=CANCELLED_CODE)
        return
    except Exception as error:
        db.session.rollback()
        text = "".join(traceback.format_exception_only(type(error), error)).strip()
        _finish(run_id, attempt, status=FAILED_RUN, error=text[:4000], error_code=None)
        raise
    finally:
        _current.reset(token)
        if heartbeat is not None:
            heartbeat.stop()
    _finish(run_id, attempt, status=FINISHED, result=_jsonable(result), error_code=None)


class _Heartbeat(threading.Thread):
    """Moves ``heartbeat_at`` of a started run every ``JOB_HEARTBEAT_INTERVAL`` seconds."""

    def __init__(self, app: Flask, run_id: str, attempt: int) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.app, self.run_id, self.attempt = app, run_id, attempt
        self.interval = float(app.config["JOB_HEARTBEAT_INTERVAL"])
        self._stopping = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                run_in_app(self.app, _write, sa.update(JobRun).where(
                    JobRun.id == self.run_id, JobRun.attempts == self.attempt,
                    JobRun.status == STARTED).values(heartbeat_at=clock.now()))
            except Exception:  # the next beat tries again; the sweep tolerates a few misses
                log.warning("heartbeat of job run %s failed", self.run_id, exc_info=True)

    def stop(self) -> None:
        self._stopping.set()
        self.join()


def report_progress(done: int, total: int | None = None, message: str | None = None) -> None:
    """Record how far the running job got (``done`` of ``total``, optional ``message``).

    Writes at most every ``JOB_PROGRESS_INTERVAL`` seconds (0.5 by default), and always
    when ``done`` reaches ``total``. Raises ``JobCancelled`` when a cancel was requested.
    Outside a job it does nothing, so services may report unconditionally.
    """
    running = _current.get()
    if running is None:
        return
    moment = time.monotonic()
    interval = float(current_app.config["JOB_PROGRESS_INTERVAL"])
    final = total is not None and done >= total
    if not final and moment - running.last_write < interval:
        return
    running.last_write = moment
    values: dict[str, Any] = {"progress_done": done, "heartbeat_at": clock.now()}
    if total is not None:
        values["progress_total"] = total
    if message is not None:
        values["progress_message"] = message[:500]
    statement = (sa.update(JobRun)
                 .where(JobRun.id == running.run_id, JobRun.attempts == running.attempt)
                 .values(**values).returning(JobRun.cancel_requested_at))
    session = db.session()
    if is_sqlite() and session.in_transaction():
        # The job's transaction holds SQLite's write lock: write through it (visible when
        # the job commits) rather than wait for ourselves on another connection.
        row = session.execute(statement).first()
    else:
        row = _write(statement)
    if row is not None and row[0] is not None:
        raise JobCancelled(running.run_id)


# --- reading and cancelling ----------------------------------------------------------------


def get_run(tenant_id: int, run_id: str, user: Any = None) -> JobRun:
    """A run of ``tenant_id``; with ``user``, only one the user started unless the user
    is a tenant admin. Anything else is ``NotFound``, as if it did not exist."""
    run = db.session.get(JobRun, run_id) if len(run_id) <= 64 else None
    visible = run is not None and run.tenant_id == tenant_id and (
        user is None or getattr(user, "is_tenant_admin", False) or run.user_id == user.id)
    if not visible or run is None:
        raise NotFound(gettext("jobs.run.not_found", id=run_id))
    return run


def list_runs(tenant_id: int, status: str | None = None, limit: int = 50) -> list[JobRun]:
    """The tenant's runs, newest first."""
    query = sa.select(JobRun).where(JobRun.tenant_id == tenant_id)
    if status:
        query = query.where(JobRun.status == status)
    query = query.order_by(JobRun.created_at.desc(), JobRun.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def cancel_run(run: JobRun) -> JobRun:
    """Cancel a queued run at once; ask a started one to stop (it stops at its next
    ``report_progress``). A finished, failed or cancelled run is a ``Conflict``."""
    now = clock.now()
    dropped = rowcount(db.session.execute(
        sa.update(JobRun).where(JobRun.id == run.id, JobRun.status == QUEUED)
        .values(status=CANCELLED_RUN, error_code=CANCELLED_CODE, finished_at=now,
                cancel_requested_at=now)))
    if not dropped:
        requested = rowcount(db.session.execute(
            sa.update(JobRun).where(JobRun.id == run.id, JobRun.status == STARTED)
            .values(cancel_requested_at=sa.func.coalesce(JobRun.cancel_requested_at, now))
        ))
        if not requested:
            db.session.refresh(run)
            raise Conflict(gettext("jobs.run.already_done", status=run.status))
    db.session.refresh(run)
    return run


def run_error(run: JobRun) -> str | None:
    """The run's error for people: a known cause in their language, else the text."""
    if run.error_code:
        return gettext(f"jobs.error.{run.error_code}")
    return run.error


# --- sweeping ------------------------------------------------------------------------------


def sweep_runs(now: datetime | None = None) -> int:
    """Find runs that a dead worker or a lost Redis left behind; returns how many it
    handled. A started run whose heartbeat is older than ``JOB_STALE_SECONDS`` is queued
    again (while it has attempts left) or marked failed; a run queued that long ago
    whose job Redis no longer holds is sent again."""
    now = now or clock.now()
    jobs = get_jobs()
    stale = now - timedelta(seconds=float(current_app.config["JOB_STALE_SECONDS"]))
    handled = 0
    lost = db.session.execute(
        sa.select(JobRun.id, JobRun.attempts, JobRun.max_attempts)
        .where(JobRun.status == STARTED, JobRun.heartbeat_at < stale)).all()
    for run_id, attempts, max_attempts in lost:
        again = attempts < max_attempts
        values: dict[str, Any] = (
            {"status": QUEUED, "heartbeat_at": now} if again else
            {"status": FAILED_RUN, "error_code": WORKER_LOST, "finished_at": now})
        changed = rowcount(db.session.execute(
            sa.update(JobRun).where(JobRun.id == run_id, JobRun.status == STARTED,
                                    JobRun.attempts == attempts).values(**values)))
        if changed and again:
            on_commit(partial(send_run, run_id))
        handled += changed
    waiting = db.session.scalars(
        sa.select(JobRun.id).where(JobRun.status == QUEUED, JobRun.heartbeat_at < stale)).all()
    for run_id in waiting:
        if jobs.uses_redis and jobs.rq_status(run_id) in WAITING_IN_REDIS:
            continue
        db.session.execute(sa.update(JobRun).where(JobRun.id == run_id, JobRun.status == QUEUED)
                           .values(heartbeat_at=now))
        on_commit(partial(send_run, run_id))
        handled += 1
    db.session.commit()
    return handled


def purge_runs(before: datetime) -> int:
    """Delete finished, failed and cancelled runs that ended before ``before``."""
    deleted = rowcount(db.session.execute(
        sa.delete(JobRun).where(JobRun.status.in_((FINISHED, FAILED_RUN, CANCELLED_RUN)),
                                JobRun.finished_at < before)))
    db.session.commit()
    return int(deleted or 0)
