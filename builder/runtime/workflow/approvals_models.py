"""Tables of approval chains: instances, tasks and the append-only trail of actions.

- ``approval_instances``: one run of a chain on one record. ``chain`` is a snapshot of the
  chain's definition when it was submitted, so publishing a new version never changes a
  run halfway. ``open_key`` is set only while the run is pending and is unique per tenant:
  the database itself guarantees one pending approval per record, even when two
  submits race. ``version`` goes up at every action; the conditional ``UPDATE`` that
  bumps it is what serializes concurrent actions on one run.
- ``approval_tasks``: one per approver per visit of a step (a step is visited again after
  a return). Acting on a task is a conditional ``UPDATE ... WHERE status = 'pending'``.
- ``approval_actions``: who did what, when, with which comment; rows are only appended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

# instance statuses
PENDING, APPROVED, REJECTED, RETURNED, WITHDRAWN = (
    "pending", "approved", "rejected", "returned", "withdrawn")
# task statuses besides pending / approved / rejected / returned
DELEGATED, CANCELLED = "delegated", "cancelled"


class ApprovalInstance(db.Model):  # type: ignore[name-defined]
    __tablename__ = "approval_instances"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "open_key"),
        sa.Index("ix_approval_instances_record", "tenant_id", "app_key", "entity_key",
                 "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    chain_key: Mapped[str] = mapped_column(sa.String(64))
    chain: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    #: index of the step being decided (the last one reached, once decided)
    current_step: Mapped[int | None] = mapped_column(sa.Integer)
    locks_record: Mapped[bool] = mapped_column(default=True)
    submitted_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: ``app:entity:record`` while pending, NULL afterwards (unique per tenant)
    open_key: Mapped[str | None] = mapped_column(sa.String(200))


class ApprovalTask(db.Model):  # type: ignore[name-defined]
    __tablename__ = "approval_tasks"
    __table_args__ = (sa.Index("ix_approval_tasks_assignee_status", "assignee_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("approval_instances.id", ondelete="CASCADE"), index=True)
    step_index: Mapped[int] = mapped_column(sa.Integer)
    step_key: Mapped[str] = mapped_column(sa.String(64))
    #: the how-many-th time the run entered this step (1 at first, more after a return)
    visit: Mapped[int] = mapped_column(sa.Integer, default=1)
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    delegated_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("approval_tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    acted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    comment: Mapped[str | None] = mapped_column(sa.Text)


class ApprovalAction(db.Model):  # type: ignore[name-defined]
    __tablename__ = "approval_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    instance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("approval_instances.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("approval_tasks.id", ondelete="SET NULL"))
    step_index: Mapped[int | None] = mapped_column(sa.Integer)
    step_key: Mapped[str | None] = mapped_column(sa.String(64))
    #: submit, approve, reject, return, delegate, withdraw, skip, complete
    action: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
