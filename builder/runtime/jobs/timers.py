"""Durable timers: "do this for that tenant at that moment" (or on a cron schedule).

Engines (SLA deadlines, time-triggered automations, notification retries, scheduled
reports) ``schedule`` a timer of a ``kind`` inside their own transaction and register a
handler for the kind with ``@timer_handler("kind")``. A timer fires exactly once: the
handler runs inside the transaction that marks it fired, by a conditional
``UPDATE timers SET fired_at ... WHERE id = :id AND fired_at IS NULL AND cancelled_at IS
NULL``, and the handler's writes commit together with that mark. Two workers (or a
worker and the sweep) racing for one timer: the database lets one through (PostgreSQL:
the row lock, taken with SKIP LOCKED; SQLite: the write lock).

A handler that raises is rolled back; the timer's ``attempts`` grows, ``last_error``
keeps the traceback and it is tried again after an exponential backoff (``backoff``,
doubling, at most ``MAX_BACKOFF``); after ``max_attempts`` tries it is marked failed and
listed for admins (``GET /api/timers?status=failed``), who may retry it.

Delivery: with Redis, a committed timer is sent to RQ with ``enqueue_at`` (job id
``<prefix>-timer-<id>``) so it fires on time; the periodic ``sweep`` sends anything due
that Redis lost. Without Redis, ``run_due`` (called by the scheduler thread of ``builder
serve``) fires due timers in-process. Firing checks the database, so a stray or repeated
RQ job is harmless.

A recurring timer (``cron`` in ``timezone``) schedules its next occurrence in the same
transaction as it fires (or fails for good); occurrences missed while nothing ran collapse
into one firing.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from croniter import croniter
from sqlalchemy.exc import IntegrityError

from builder import clock
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.registry import Registrable, Registry
from builder.runtime.jobs.models import (
    CANCELLED,
    DEFAULT_TIMEZONE,
    FAILED,
    FIRED,
    PENDING,
    Timer,
    rowcount,
)
from builder.runtime.jobs.transport import get_jobs, on_commit

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
BATCH = 100

_PENDING = sa.and_(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None),
                   Timer.failed_at.is_(None))


@dataclass(frozen=True)
class DueTimer:
    """What a handler receives: the timer as it was when it became due.

    ``attempts`` counts the earlier tries that failed (0 on the first try)."""

    id: int
    tenant_id: int
    kind: str
    key: str | None
    payload: dict[str, Any]
    due_at: datetime
    attempts: int = 0
    cron: str | None = None
    timezone: str = DEFAULT_TIMEZONE


class TimerHandler(Registrable):
    """Fires the timers of one kind (``type``). ``fire`` runs in the firing transaction:
    write through the session (``commit=False`` services), never commit."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff: timedelta = DEFAULT_BACKOFF

    def fire(self, timer: DueTimer) -> None:
        raise NotImplementedError


timer_handlers: Registry[TimerHandler] = Registry("timer handler")


def timer_handler(kind: str, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                  backoff: timedelta = DEFAULT_BACKOFF
                  ) -> Callable[[Callable[[DueTimer], Any]], Callable[[DueTimer], Any]]:
    """Register the decorated function ``func(timer: DueTimer)`` as the handler of
    ``kind``; a failing timer is tried ``max_attempts`` times in all, waiting
    ``backoff``, then twice that, and so on."""

    def decorate(func: Callable[[DueTimer], Any]) -> Callable[[DueTimer], Any]:
        def fire(self: TimerHandler, timer: DueTimer) -> None:
            func(timer)

        handler = type(f"TimerHandler[{kind}]", (TimerHandler,),
                       {"type": kind, "max_attempts": max(1, max_attempts),
                        "backoff": backoff, "fire": fire, "__module__": func.__module__,
                        "__doc__": func.__doc__})
        timer_handlers.register(handler)
        return func

    return decorate


# --- scheduling ----------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"timers need an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(gettext("jobs.timer.invalid"), [Problem(
            "timezone", gettext("jobs.timer.bad_timezone", timezone=timezone),
            "bad_timezone")]) from None


def check_cron(cron: str, timezone: str = DEFAULT_TIMEZONE) -> None:
    """Refuse a cron expression or a time zone that cannot be scheduled."""
    _zone(timezone)
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        raise ValidationFailed(gettext("jobs.timer.invalid"), [Problem(
            "cron", gettext("jobs.timer.bad_cron", cron=cron), "bad_cron")])


def next_occurrence(cron: str, timezone: str, after: datetime) -> datetime:
    """The first moment after ``after`` matching ``cron`` read in ``timezone`` (UTC)."""
    local = _aware(after).astimezone(_zone(timezone))
    following: datetime = croniter(cron, local).get_next(datetime)
    return following.astimezone(UTC)


def _insert(values: dict[str, Any]) -> int:
    """Insert a pending timer, replacing a pending one of the same tenant and key."""
    session = db.session
    for attempt in range(3):
        try:
            with session.begin_nested():
                if values["key"] is not None:
                    session.execute(sa.update(Timer).where(
                        Timer.tenant_id == values["tenant_id"], Timer.key == values["key"],
                        _PENDING).values(cancelled_at=clock.now()))
                timer_id: int = session.execute(
                    sa.insert(Timer).values(**values).returning(Timer.id)).scalar_one()
                return timer_id
        except IntegrityError:  # another transaction committed the same key meanwhile
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def send(timer_id: int, at: datetime) -> None:
    """With Redis, have RQ fire the timer at ``at`` (deterministic job id); without
    Redis nothing is sent: the scheduler loop finds it."""
    jobs = get_jobs()
    if jobs.uses_redis:
        jobs.send(jobs.job_id("timer", timer_id), fire_timer, (timer_id,), at=at,
                  description=f"timer {timer_id}")


def schedule(tenant_id: int, kind: str, due_at: datetime | None,
             payload: dict[str, Any] | None = None, *, key: str | None = None,
             cron: str | None = None, timezone: str = DEFAULT_TIMEZONE) -> int:
    """Schedule a timer of ``kind`` for ``tenant_id`` at ``due_at``; returns its id.

    Runs in the caller's transaction (the timer exists if the caller commits). A pending
    timer of the tenant with the same ``key`` is replaced (cancelled). With ``cron`` the
    timer recurs; ``due_at`` may then be ``None`` for the next occurrence from now.
    ``payload`` must be JSON.
    """
    if cron is not None:
        check_cron(cron, timezone)
        if due_at is None:
            due_at = next_occurrence(cron, timezone, clock.now())
    else:
        _zone(timezone)
    if due_at is None:
        raise ValueError("due_at is required for a timer without cron")
    due_at = _aware(due_at)
    payload = dict(payload or {})
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as error:
        raise ValueError(f"timer payload must be JSON: {error}") from None
    timer_id = _insert({"tenant_id": tenant_id, "kind": kind, "key": key, "payload": payload,
                        "due_at": due_at, "next_attempt_at": due_at, "attempts": 0,
                        "cron": cron, "timezone": timezone, "created_at": clock.now()})
    on_commit(lambda: send(timer_id, due_at))
    return timer_id


def _selection(tenant_id: int, key: str | None, key_prefix: str | None,
               kind: str | None) -> list[Any]:
    conditions: list[Any] = [Timer.tenant_id == tenant_id, _PENDING]
    if key is not None:
        conditions.append(Timer.key == key)
    if key_prefix is not None:
        conditions.append(Timer.key.startswith(key_prefix, autoescape=True))
    if kind is not None:
        conditions.append(Timer.kind == kind)
    return conditions


def cancel(tenant_id: int, *, key: str | None = None, key_prefix: str | None = None,
           kind: str | None = None) -> int:
    """Cancel the tenant's pending timers with ``key``, or whose key starts with
    ``key_prefix`` (and of ``kind``, if given); returns how many. In the caller's
    transaction."""
    if key is None and key_prefix is None and kind is None:
        raise ValueError("cancel needs key, key_prefix or kind")
    result = db.session.execute(
        sa.update(Timer).where(*_selection(tenant_id, key, key_prefix, kind))
        .values(cancelled_at=clock.now()))
    return rowcount(result)


def pending(tenant_id: int, key_prefix: str | None = None, *,
            kind: str | None = None) -> list[Timer]:
    """The tenant's pending timers (optionally by key prefix and kind), soonest first."""
    return list(db.session.scalars(
        sa.select(Timer).where(*_selection(tenant_id, None, key_prefix, kind))
        .order_by(Timer.next_attempt_at, Timer.id)))


# --- firing --------------------------------------------------------------------------------


def _due_ids(now: datetime, *, skip_locked: bool = False) -> list[int]:
    query = (sa.select(Timer.id).where(_PENDING, Timer.next_attempt_at <= now)
             .order_by(Timer.next_attempt_at, Timer.id).limit(BATCH))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    db.session.rollback()  # end the read (and release SQLite's write lock) at once
    return ids


def _recur(row: Any, now: datetime) -> None:
    """Schedule the occurrence after this one, in the current transaction."""
    due = next_occurrence(row.cron, row.timezone, max(row.due_at, now))
    timer_id = _insert({"tenant_id": row.tenant_id, "kind": row.kind, "key": row.key,
                        "payload": row.payload, "due_at": due, "next_attempt_at": due,
                        "attempts": 0, "cron": row.cron, "timezone": row.timezone,
                        "created_at": now})
    on_commit(lambda: send(timer_id, due))


def fire(timer_id: int, now: datetime | None = None) -> bool:
    """Fire one timer if it is pending and due; returns whether it fired.

    The handler runs in the transaction that marks the timer fired; if it raises, all of
    it rolls back and the failure is recorded (see the module doc). Works in the
    session's own transactions: what the caller left pending is committed first.
    """
    db.session.commit()
    return _fire(timer_id, now or clock.now())


def _fire(timer_id: int, now: datetime) -> bool:
    session = db.session
    row = session.execute(
        sa.select(*Timer.__table__.c).where(Timer.id == timer_id, _PENDING,
                                            Timer.next_attempt_at <= now)
        .with_for_update(skip_locked=True)).first()
    if row is None:
        session.rollback()
        return False  # not due, already fired or cancelled, or being fired elsewhere
    try:
        marked = rowcount(session.execute(
            sa.update(Timer).where(Timer.id == timer_id, Timer.fired_at.is_(None),
                                   Timer.cancelled_at.is_(None), Timer.failed_at.is_(None))
            .values(fired_at=now, attempts=Timer.attempts + 1)))
        if marked != 1:
            session.rollback()
            return False
        timer_handlers.get(row.kind).fire(DueTimer(
            row.id, row.tenant_id, row.kind, row.key, dict(row.payload or {}), row.due_at,
            row.attempts, row.cron, row.timezone))
        if row.cron:
            _recur(row, now)
        session.commit()
    except Exception as error:
        session.rollback()
        _record_failure(timer_id, error, now)
        return False
    return True


def fire_timer(timer_id: int) -> None:
    """The RQ job of a timer: fire it if it is still pending and due."""
    _fire(timer_id, clock.now())


def _record_failure(timer_id: int, error: Exception, now: datetime) -> None:
    log.warning("timer %s failed", timer_id, exc_info=error)
    session = db.session
    row = session.execute(sa.select(*Timer.__table__.c)
                          .where(Timer.id == timer_id, _PENDING)).first()
    if row is None:
        session.rollback()
        return
    handler = timer_handlers.get(row.kind) if row.kind in timer_handlers else None
    max_attempts = handler.max_attempts if handler else DEFAULT_MAX_ATTEMPTS
    backoff = handler.backoff if handler else DEFAULT_BACKOFF
    attempts = row.attempts + 1
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    values: dict[str, Any] = {"attempts": attempts, "last_error": text[-4000:]}
    retry_at: datetime | None = None
    if attempts >= max_attempts:
        values["failed_at"] = now
    else:
        retry_at = now + min(backoff * 2 ** (attempts - 1), MAX_BACKOFF)
        values["next_attempt_at"] = retry_at
    updated = session.execute(sa.update(Timer).where(
        Timer.id == timer_id, _PENDING, Timer.attempts == row.attempts).values(**values))
    if rowcount(updated) == 1:
        if retry_at is not None:
            on_commit(lambda: send(timer_id, retry_at))
        elif row.cron:
            _recur(row, now)
    session.commit()


def run_due(now: datetime | None = None) -> int:
    """Fire every due timer in this process, one transaction each; returns how many
    fired. Safe to run in several processes at once. Commits what the caller left
    pending first, then one transaction per timer."""
    now = now or clock.now()
    db.session.commit()
    tried: set[int] = set()
    fired = 0
    while True:
        ids = [i for i in _due_ids(now) if i not in tried]
        if not ids:
            return fired
        for timer_id in ids:
            tried.add(timer_id)
            fired += _fire(timer_id, now)


def sweep(now: datetime | None = None) -> int:
    """Send every due timer to the workers as an RQ job (job id ``<prefix>-timer-<id>``)
    unless one is already waiting in the queue; returns how many were sent. Timers being
    fired right now are skipped. Without Redis, fires them here (``run_due``)."""
    jobs = get_jobs()
    if not jobs.uses_redis:
        return run_due(now)
    db.session.commit()
    due = _due_ids(now or clock.now(), skip_locked=True)
    sent = 0
    for timer_id in due:
        if jobs.rq_status(jobs.job_id("timer", timer_id)) == "queued":
            continue
        send(timer_id, clock.now())
        sent += 1
    return sent


# --- administration ------------------------------------------------------------------------

_STATUS = {PENDING: _PENDING, FAILED: Timer.failed_at.is_not(None),
           FIRED: Timer.fired_at.is_not(None), CANCELLED: Timer.cancelled_at.is_not(None)}
STATUSES = tuple(_STATUS)


def list_timers(tenant_id: int, statuses: tuple[str, ...] = (PENDING, FAILED),
                limit: int = 100) -> list[Timer]:
    """The tenant's timers in ``statuses``, soonest (or latest failed) first."""
    return list(db.session.scalars(
        sa.select(Timer).where(Timer.tenant_id == tenant_id,
                               sa.or_(*(_STATUS[status] for status in statuses)))
        .order_by(Timer.next_attempt_at, Timer.id).limit(limit)))


def get_timer(tenant_id: int, timer_id: int) -> Timer:
    timer = db.session.get(Timer, timer_id)
    if timer is None or timer.tenant_id != tenant_id:
        raise NotFound(gettext("jobs.timer.not_found", id=timer_id))
    return timer


def retry(tenant_id: int, timer_id: int) -> Timer:
    """Make a failed timer pending again, due now, with a fresh count of attempts.
    ``Conflict`` if it did not fail or a pending timer took its key meanwhile."""
    timer = get_timer(tenant_id, timer_id)
    if timer.status != FAILED:
        raise Conflict(gettext("jobs.timer.not_failed", status=timer.status))
    now = clock.now()
    try:
        with db.session.begin_nested():
            db.session.execute(sa.update(Timer).where(
                Timer.id == timer_id, Timer.failed_at.is_not(None))
                .values(failed_at=None, attempts=0, next_attempt_at=now))
    except IntegrityError:
        raise Conflict(gettext("jobs.timer.key_taken", timer_key=timer.key or "")) from None
    on_commit(lambda: send(timer_id, now))
    db.session.refresh(timer)
    return timer


def purge_timers(before: datetime) -> int:
    """Delete timers that fired or were cancelled before ``before``."""
    deleted = rowcount(db.session.execute(sa.delete(Timer).where(sa.or_(
        Timer.fired_at < before, Timer.cancelled_at < before))))
    db.session.commit()
    return int(deleted or 0)
