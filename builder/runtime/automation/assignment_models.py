"""Tables of the assignment engine: rotation cursors, the assignment log and backlog runs.

They live in the shared namespace and every row carries ``tenant_id``; records themselves
stay in the tenant's tables. Cursors hold the round-robin position of each rule item and
double as the row lock that serializes the assignments of one rule across processes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

Timestamp = UtcDateTime()
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class AssignmentCursor(db.Model):  # type: ignore[name-defined]
    """One row per rule and scope: ``""`` is the rule's lock, an item's scope holds its
    rotation (the user who got the last record), ``claim:<user id>`` a claimer's lock."""

    __tablename__ = "assignment_cursors"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "app_key", "rule_key", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    app_key: Mapped[str] = mapped_column(sa.String(64))
    rule_key: Mapped[str] = mapped_column(sa.String(64))
    scope: Mapped[str] = mapped_column(sa.String(200))
    last_user_id: Mapped[int | None] = mapped_column()
    turns: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AssignmentLog(db.Model):  # type: ignore[name-defined]
    """Every change of a record's assignee made by the engine: who gave it to whom, under
    which rule, item and strategy. ``version`` is the record's version after the change,
    which ties the entry to the audit row of the same change."""

    __tablename__ = "assignment_log"
    __table_args__ = (sa.Index("ix_assignment_log_record", "tenant_id", "app_key",
                               "entity_key", "record_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    version: Mapped[int] = mapped_column()
    field: Mapped[str] = mapped_column(sa.String(64))
    #: created (on create), distribute (a backlog run), assign (a service call), claim, release
    kind: Mapped[str] = mapped_column(sa.String(16))
    rule_key: Mapped[str | None] = mapped_column(sa.String(64))
    item_key: Mapped[str | None] = mapped_column(sa.String(64))
    strategy: Mapped[str | None] = mapped_column(sa.String(32))
    from_user_id: Mapped[int | None] = mapped_column()
    to_user_id: Mapped[int | None] = mapped_column()
    by_user_id: Mapped[int | None] = mapped_column()
    run_id: Mapped[int | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class AssignmentRun(db.Model):  # type: ignore[name-defined]
    """One request to distribute an entity's unassigned records; the counts grow as the
    background job commits each batch."""

    __tablename__ = "assignment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    rule_key: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    requested_by: Mapped[int | None] = mapped_column()
    #: unassigned records matching a rule item when the run was requested
    pending: Mapped[int] = mapped_column(default=0, server_default="0")
    assigned: Mapped[int] = mapped_column(default=0, server_default="0")
    #: matched an item, but nobody in its pool could take them
    unassigned: Mapped[int] = mapped_column(default=0, server_default="0")
    #: refused by another engine (a guard or listener raised); left unassigned
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    #: user id (as text) → records given to that user
    per_user: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
