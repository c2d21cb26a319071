"""What alerts and scheduled reports leave behind.

- ``AlertFiring``: one row per alert, subject and period. The unique constraint is what
  makes an alert fire once per period per subject, whichever process evaluates it and
  however often.
- ``ReportRun``: one occurrence of a scheduled report for one period (unique per period),
  with the figures its circuit breaker compared and its status: ``sent``, or ``held``
  until an admin ``released`` or ``discarded`` it.
- ``ReportMessage``: what one recipient (a user, or a group robot) receives from a run,
  composed when the run is made, so a held report goes out exactly as it was reviewed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

SENT, HELD, RELEASED, DISCARDED = "sent", "held", "released", "discarded"
RUN_STATUSES = (SENT, HELD, RELEASED, DISCARDED)


def insert_once(row: Any) -> bool:
    """Insert ``row`` in a savepoint; ``False`` (and nothing written) when its unique
    constraint says it exists already, in this transaction or a committed one."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return False
    return True


class AlertFiring(db.Model):  # type: ignore[name-defined]
    __tablename__ = "alert_firings"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "alert_key", "subject", "period_start"),
        sa.Index("ix_alert_firings_alert", "tenant_id", "app_key", "alert_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    alert_key: Mapped[str] = mapped_column(sa.String(64))
    #: the group value the alert is about (a user id, a team key, a region...) as text
    subject: Mapped[str] = mapped_column(sa.String(200))
    #: the last period the condition was evaluated over
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    #: the figures of each period evaluated, oldest first
    figures: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    #: what each action did (created record ids, notification ids)
    results: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ReportRun(db.Model):  # type: ignore[name-defined]
    __tablename__ = "report_runs"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "report_key", "period_start"),
        sa.Index("ix_report_runs_status", "tenant_id", "app_key", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    report_key: Mapped[str] = mapped_column(sa.String(64))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16))
    #: the circuit breaker's threshold (a share: 0.35), when the report has one
    threshold: Mapped[float | None] = mapped_column(sa.Float)
    #: ``[{metric, title, value, previous, change, breached}]`` over the whole tenant
    figures: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def breaches(self) -> list[Any]:
        return [f for f in self.figures or [] if f.get("breached")]


class ReportMessage(db.Model):  # type: ignore[name-defined]
    __tablename__ = "report_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report_runs.id", ondelete="CASCADE"), index=True)
    #: the user it is for (``None`` for a group robot)
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"))
    channels: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: the robot's ``{format, url, secret, msgtype}`` (never shown by the API)
    webhook: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: language maps ``{"zh-CN": ..., "en": ...}``
    subject: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    body: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    delivery_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
