"""Whose eyes the figures are computed with.

A person's report is computed with their own permissions (``dashboards.context``), so a
rep reads their own figures and a manager their team's. Alerts, circuit breakers and
robots without a team look at the whole tenant: the ``SystemViewer`` reaches every row,
as a tenant admin does, and reads no ``$user``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.extensions import db
from builder.platform.models import Team, User
from builder.runtime.insight.metrics import InsightContext


@dataclass(frozen=True)
class SystemViewer:
    """The platform itself looking at a tenant's data: every row, no person."""

    tenant_id: int
    id: None = None
    is_tenant_admin: bool = True
    username: str = "system"
    roles: list[Any] = field(default_factory=list)
    teams: list[Any] = field(default_factory=list)


def system_context(tenant_id: int, app_key: str, today: date, zone: str) -> InsightContext:
    """Metrics of the live app over every record of the tenant, as of ``today``."""
    from builder.designer.service import live_app
    from builder.runtime.storage.tables import load_stores

    app, definition = live_app(tenant_id, app_key)
    stores = load_stores(tenant_id, app.id, app.live_revision or "", definition)
    now = utcnow().isoformat().replace("+00:00", "Z")
    return InsightContext(stores, SystemViewer(tenant_id), today, zone,
                          {"$user": {}, "$now": now})


def person_context(user: User, app_key: str, today: date, zone: str) -> InsightContext:
    """Metrics as ``user`` sees them (their row scope and ``$user``), as of ``today``."""
    from builder.runtime.insight import dashboards

    return dataclasses.replace(dashboards.context(user, app_key, today), zone=zone)


def record_reader(ctx: InsightContext) -> Any:
    """The user to read records as (``None``, the engine, for the system viewer)."""
    return None if isinstance(ctx.user, SystemViewer) else ctx.user


def team_by_key(tenant_id: int, key: str) -> Team | None:
    return db.session.scalar(sa.select(Team).where(Team.tenant_id == tenant_id,
                                                   Team.key == key))


def active_user(tenant_id: int, user_id: Any) -> User | None:
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.tenant_id == tenant_id and user.is_active \
        else None
