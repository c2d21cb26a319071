"""Notification deliveries: one row per message per channel and target.

A row is written in the transaction of whatever caused the notification, so a change that
rolls back notifies nobody. In-app (``inbox``) rows are delivered by being written; the
others start ``pending`` and are sent by a job after commit. A failed attempt is retried
with exponential backoff (``next_attempt_at``) until ``attempts`` reaches the limit, and
then the delivery is ``dead``. Every failure keeps its ``last_error`` for the admin.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

PENDING, SENT, FAILED, DEAD = "pending", "sent", "failed", "dead"
STATUSES = (PENDING, SENT, FAILED, DEAD)
#: deliveries that still have an attempt to come
RETRYABLE = (PENDING, FAILED)


class Delivery(db.Model):  # type: ignore[name-defined]
    __tablename__ = "notify_deliveries"
    __table_args__ = (
        sa.Index("ix_notify_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_notify_deliveries_inbox", "recipient_id", "channel", "read_at"),
        sa.Index("ix_notify_deliveries_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(32))
    #: the user it is for (``None`` for group robots and webhooks)
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"))
    #: where it goes: a user id, an email address or a URL
    target: Mapped[str] = mapped_column(sa.String(2000))
    language: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    #: ``{"app", "entity", "record_id", "url"}`` of the record it is about
    link: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    #: the message as the channel sends it (e.g. a robot's JSON body, before signing)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: signing secret of a robot or webhook (never shown by the API)
    secret: Mapped[str | None] = mapped_column(sa.String(500))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.status}>"
