"""Apps of a tenant: the draft a manager edits and the published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db


class App(db.Model):  # type: ignore[name-defined]
    __tablename__ = "apps"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    draft: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    draft_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    draft_updated_by: Mapped[int | None] = mapped_column(sa.Integer)
    live_version: Mapped[int | None] = mapped_column(sa.Integer)
    #: a fresh token at every publish; caches of compiled definitions are keyed by it
    live_revision: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(sa.Integer)
    #: set when the market uninstalled the app: hidden everywhere, tables and data kept
    uninstalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AppVersion(db.Model):  # type: ignore[name-defined]
    __tablename__ = "app_versions"
    __table_args__ = (sa.UniqueConstraint("app_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    number: Mapped[int] = mapped_column(sa.Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    summary: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_by: Mapped[int | None] = mapped_column(sa.Integer)
