"""Durable job state: timers (work due at a moment) and job runs (work sent to a worker).

Redis only carries ids; what is due, what fired, what failed and how far a job got lives
in these rows, so a Redis restart or a killed worker loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

DEFAULT_TIMEZONE = "Asia/Shanghai"

# Timer states, derived from the timestamps (see ``Timer.status``).
PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"

# Job run states.
QUEUED, STARTED, FINISHED, CANCELLED_RUN = "queued", "started", "finished", "cancelled"
FAILED_RUN = "failed"
RUN_STATES = (QUEUED, STARTED, FINISHED, FAILED_RUN, CANCELLED_RUN)
DONE_STATES = (FINISHED, FAILED_RUN, CANCELLED_RUN)


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(result.rowcount or 0)


class Timer(db.Model):  # type: ignore[name-defined]
    """Something to do for a tenant at ``due_at``, once (or on a cron schedule).

    ``next_attempt_at`` is when the timer is tried next: ``due_at`` at first, later than
    that after a failed attempt. A timer is pending until it fires, is cancelled or
    fails for good; ``key`` is unique among the pending timers of a tenant.
    """

    __tablename__ = "timers"
    __table_args__ = (
        sa.Index("ix_timers_pending_key", "tenant_id", "key", unique=True,
                 sqlite_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL "
                                      "AND failed_at IS NULL"),
                 postgresql_where=sa.text("fired_at IS NULL AND cancelled_at IS NULL "
                                          "AND failed_at IS NULL")),
        sa.Index("ix_timers_next_attempt_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str | None] = mapped_column(sa.String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    cron: Mapped[str | None] = mapped_column(sa.String(128))
    timezone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_TIMEZONE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def status(self) -> str:
        if self.fired_at is not None:
            return FIRED
        if self.cancelled_at is not None:
            return CANCELLED
        if self.failed_at is not None:
            return FAILED
        return PENDING


class JobRun(db.Model):  # type: ignore[name-defined]
    """One enqueued job: its call, state, progress and outcome.

    ``id`` is also the job's id in Redis. ``call`` holds the pickled function reference
    and arguments, so the run can be sent again if Redis lost it. ``heartbeat_at`` moves
    while a worker runs the job; a started run whose heartbeat stopped was lost.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.Index("ix_job_runs_tenant_id_status", "tenant_id", "status"),
        sa.Index("ix_job_runs_status_heartbeat_at", "status", "heartbeat_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tenants.id"))
    user_id: Mapped[int | None] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    call: Mapped[bytes] = mapped_column(sa.LargeBinary)
    progress_done: Mapped[int | None] = mapped_column(sa.BigInteger)
    progress_total: Mapped[int | None] = mapped_column(sa.BigInteger)
    progress_message: Mapped[str | None] = mapped_column(sa.String(500))
    result: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(sa.Text)
    error_code: Mapped[str | None] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
