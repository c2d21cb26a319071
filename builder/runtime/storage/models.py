"""Metadata of physical storage: which table holds an entity, which column holds a field.

Physical names derive from these ids (``e{id}``, ``f{id}``), never from keys or titles, so a
rename touches metadata only. A field whose type changes gets a new column; the old one is
kept (``retired``) until purge, like a deleted field (``hidden``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

ACTIVE, HIDDEN, RETIRED = "active", "hidden", "retired"


class EntityTable(db.Model):  # type: ignore[name-defined]
    __tablename__ = "entity_tables"
    __table_args__ = (sa.UniqueConstraint("app_id", "entity_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    app_id: Mapped[int] = mapped_column(sa.ForeignKey("apps.id"), index=True)
    entity_key: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @property
    def local_name(self) -> str:
        return f"e{self.id}"


class FieldColumn(db.Model):  # type: ignore[name-defined]
    __tablename__ = "field_columns"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_table_id: Mapped[int] = mapped_column(sa.ForeignKey("entity_tables.id"), index=True)
    field_key: Mapped[str] = mapped_column(sa.String(64))
    field_type: Mapped[str] = mapped_column(sa.String(32))
    field_def: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    state: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def column_name(self) -> str:
        return f"f{self.id}"
