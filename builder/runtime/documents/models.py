"""Import runs (an uploaded sheet, its options, progress and outcome) and print settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db


class ImportRun(db.Model):  # type: ignore[name-defined]
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    app_key: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    file_id: Mapped[str] = mapped_column(sa.String(36))
    file_name: Mapped[str] = mapped_column(sa.String(255), default="")
    #: ready → queued → running → done | failed
    status: Mapped[str] = mapped_column(sa.String(16), default="ready")
    headers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    options: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    phase: Mapped[str] = mapped_column(sa.String(16), default="")
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    imported: Mapped[int] = mapped_column(sa.Integer, default=0)
    failed: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: the first problems (row, column, letter, field, message); ``failed`` counts rows
    problems: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: a spreadsheet of the bad rows with their reasons (skip_bad mode)
    error_file_id: Mapped[str | None] = mapped_column(sa.String(36))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PrintSettings(db.Model):  # type: ignore[name-defined]
    """What every printed document of a tenant carries: its name and logo."""

    __tablename__ = "print_settings"

    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    company_name: Mapped[str] = mapped_column(sa.String(200), default="")
    logo_file_id: Mapped[str | None] = mapped_column(sa.String(36))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
