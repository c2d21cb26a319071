"""Tables of automations and SLA clocks, in the shared namespace with a ``tenant_id`` each.

- ``automation_runs``: the run log. One row per run of an automation (or per escalation
  step of an SLA policy, ``kind = "sla"``), created in the transaction of what triggered
  it and executed later by a job. ``dedup_key`` makes a run that must happen once per
  occasion (a dormancy episode, a scheduled occurrence, an SLA step) unique.
- ``record_reads``: who opened which record, first and last time (``opened`` and
  ``not_opened`` triggers).
- ``automation_hooks``: the secret of an automation's inbound webhook (only its SHA-256).
- ``sla_clocks``: one running countdown per SLA policy and record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

PENDING, SUCCEEDED, FAILED, SKIPPED = "pending", "succeeded", "failed", "skipped"
RUN_STATUSES = (PENDING, SUCCEEDED, FAILED, SKIPPED)
AUTOMATION, SLA = "automation", "sla"


class AutomationRun(db.Model):  # type: ignore[name-defined]
    __tablename__ = "automation_runs"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "kind", "automation_key", "dedup_key",
                            name="uq_automation_runs_dedup"),
        sa.Index("ix_automation_runs_automation", "tenant_id", "app_key", "automation_key"),
        sa.Index("ix_automation_runs_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16), default=AUTOMATION)
    #: the automation's key, or the SLA policy's key for ``kind = "sla"``
    automation_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: the trigger type (or ``escalation:<step>`` for an SLA step)
    trigger: Mapped[str] = mapped_column(sa.String(80))
    #: what the trigger saw: ``$old``, ``$trigger``, ``$payload``
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(sa.Integer)
    depth: Mapped[int] = mapped_column(sa.Integer, default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: per action: what it did (ids of created records, recipients...)
    result: Mapped[list[Any] | None] = mapped_column(sa.JSON)
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RecordRead(db.Model):  # type: ignore[name-defined]
    __tablename__ = "record_reads"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "entity_key", "record_id", "user_id",
                            name="uq_record_reads_reader"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    user_id: Mapped[int] = mapped_column(sa.Integer)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(sa.Integer, default=1)


class AutomationHook(db.Model):  # type: ignore[name-defined]
    __tablename__ = "automation_hooks"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "automation_key",
                            name="uq_automation_hooks_automation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    automation_key: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)


RUNNING, MET, CANCELLED = "running", "met", "cancelled"


class SlaClock(db.Model):  # type: ignore[name-defined]
    """The countdown of one SLA policy on one record; restarts replace it."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "app_key", "policy_key", "record_id",
                            name="uq_sla_clocks_record"),
        sa.Index("ix_sla_clocks_record", "tenant_id", "app_key", "entity_key", "record_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    policy_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    #: running, met (stop condition reached) or cancelled (record deleted)
    status: Mapped[str] = mapped_column(sa.String(16), default=RUNNING)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: escalation step key → when it is due (ISO)
    steps: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
