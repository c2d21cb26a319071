"""The stage history: one row per visit of a record to a stage of a flow.

A row is written when a record enters a stage (``from_stage`` → ``to_stage``, by whom,
when, why) and closed (``left_at``) when it moves on, so the time spent in each stage is a
column difference that the database can average and rank per stage.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime
from builder.extensions import db

#: how a record came to a stage
CREATED, MANUAL, AUTO, BY_ENGINE = "created", "manual", "auto", "engine"


class StageVisit(db.Model):  # type: ignore[name-defined]
    __tablename__ = "stage_history"
    __table_args__ = (
        sa.Index("ix_stage_history_record", "tenant_id", "app_key", "flow_key", "record_id"),
        sa.Index("ix_stage_history_stage", "tenant_id", "app_key", "flow_key", "to_stage"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int] = mapped_column(sa.BigInteger)
    flow_key: Mapped[str] = mapped_column(sa.String(64))
    from_stage: Mapped[str | None] = mapped_column(sa.String(64))
    to_stage: Mapped[str] = mapped_column(sa.String(64))
    #: who moved it (``None``: the platform)
    moved_by: Mapped[int | None] = mapped_column(sa.Integer)
    how: Mapped[str] = mapped_column(sa.String(16))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(sa.Text)
