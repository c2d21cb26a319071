"""Installed packages of a tenant: which version, the definitions as installed, by whom.

``base`` keeps each app's definition exactly as the package shipped it (not as the tenant
changed it since): it is the common ancestor of the next upgrade's three-way merge.
``record_keys`` remembers which record each package-local key (``customer:acme``) became,
so later versions reference seeded records and never seed them twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

INSTALLED, UNINSTALLED = "installed", "uninstalled"


class MarketInstall(db.Model):  # type: ignore[name-defined]
    """One package installed in one tenant (see the module doc)."""

    __tablename__ = "market_installs"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "package"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    package: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    #: installed | uninstalled (apps hidden, tables and data kept)
    state: Mapped[str] = mapped_column(sa.String(16), default=INSTALLED)
    #: app key → the package's definition as installed (base of the next merge)
    base: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: "app.entity" → {package-local record key: record id}
    record_keys: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    demo_data: Mapped[bool] = mapped_column(default=False)
    #: the conflicts of the last upgrade (the tenant's values were kept)
    conflicts: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    installed_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def apps(self) -> list[str]:
        return sorted(self.base)
