"""The platform's own tables: tenants, users, roles, teams and API tokens.

These live in the shared (public) namespace; each tenant's business data lives in its
own namespace (see ``builder.runtime.storage.tenancy``). Every row below except the
tenant itself carries ``tenant_id``, and every lookup by id goes through the tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

Timestamp = UtcDateTime()

user_roles = sa.Table(
    "user_roles",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

team_members = sa.Table(
    "team_members",
    db.metadata,
    sa.Column("team_id", sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


class Tenant(db.Model):  # type: ignore[name-defined]
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    def __repr__(self) -> str:
        return f"<Tenant {self.id} {self.slug}>"


class User(db.Model):  # type: ignore[name-defined]
    """A person who logs in; belongs to exactly one tenant. Also Flask-Login's user object."""

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "username", name="uq_users_tenant_username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    display_name: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    is_tenant_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    language: Mapped[str] = mapped_column(sa.String(16), default="zh-CN", server_default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    #: ready to receive work (assignment strategies may give records to available users only)
    is_available: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    tenant: Mapped[Tenant] = relationship(lazy="joined", innerjoin=True)
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, order_by="Role.key",
                                             back_populates="users")
    teams: Mapped[list[Team]] = relationship(secondary=team_members, order_by="Team.key",
                                             back_populates="members")

    # Flask-Login's user protocol (``is_active`` is the column above).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}@{self.tenant_id}>"


class Role(db.Model):  # type: ignore[name-defined]
    """A tenant's role, referenced by ``key`` from app definitions (permissions, approvers)."""

    __tablename__ = "roles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key", name="uq_roles_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    users: Mapped[list[User]] = relationship(secondary=user_roles, back_populates="roles")


class Team(db.Model):  # type: ignore[name-defined]
    """A node of the tenant's organisation tree, with an optional manager."""

    __tablename__ = "teams"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "key", name="uq_teams_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)

    parent: Mapped[Team | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Team]] = relationship(back_populates="parent", order_by="Team.key")
    manager: Mapped[User | None] = relationship(foreign_keys=[manager_id])
    members: Mapped[list[User]] = relationship(secondary=team_members, order_by="User.username",
                                               back_populates="teams")


class ApiToken(db.Model):  # type: ignore[name-defined]
    """A bearer token; only its SHA-256 is stored, the plaintext is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)

    user: Mapped[User] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
