"""Tables of the intake endpoints: tokens, submissions, external ids, calls, rate counters.

An endpoint is one public form or inbound webhook of one tenant's app, named by the
definition (``public_forms[].key``, ``inbound_webhooks[].key``); its row holds the secret
token of its URL, which an admin can rotate. The rest is bookkeeping that must hold
across processes: spent form nonces and answer digests (double submissions), external
ids (idempotent webhooks), the last calls of each webhook, and rate-limit counters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from builder.database import UtcDateTime, utcnow
from builder.extensions import db

FORM, HOOK = "form", "hook"
KINDS = (FORM, HOOK)


class IntakeEndpoint(db.Model):  # type: ignore[name-defined]
    __tablename__ = "intake_endpoints"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "app_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    app_key: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(64))
    #: the secret part of the URL
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the HMAC key of signed webhook calls
    secret: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class FormSubmission(db.Model):  # type: ignore[name-defined]
    """One accepted submission of a public form: its nonce is spent, its answers known."""

    __tablename__ = "intake_submissions"
    __table_args__ = (sa.UniqueConstraint("endpoint_id", "nonce"),
                      sa.Index("ix_intake_submissions_digest", "endpoint_id", "digest"))

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("intake_endpoints.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(sa.String(64))
    digest: Mapped[str] = mapped_column(sa.String(64))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    ip: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ExternalId(db.Model):  # type: ignore[name-defined]
    """The record an inbound webhook created for the sender's id (one per id and hook)."""

    __tablename__ = "intake_external_ids"
    __table_args__ = (sa.UniqueConstraint("endpoint_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("intake_endpoints.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class HookCall(db.Model):  # type: ignore[name-defined]
    """One call of an inbound webhook, kept for the admin (the last few per hook)."""

    __tablename__ = "intake_hook_calls"
    __table_args__ = (sa.Index("ix_intake_hook_calls_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("intake_endpoints.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    status: Mapped[int] = mapped_column(sa.Integer)
    ip: Mapped[str] = mapped_column(sa.String(64))
    external_id: Mapped[str | None] = mapped_column(sa.String(200))
    record_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.Text)
    #: the posted document (cut to a few kilobytes)
    payload: Mapped[str] = mapped_column(sa.Text)
    problems: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)


class RateCounter(db.Model):  # type: ignore[name-defined]
    """Calls counted per bucket (a form, a form and a client IP) in a fixed time window."""

    __tablename__ = "intake_rate_counters"
    __table_args__ = (sa.UniqueConstraint("bucket", "window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(200))
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    count: Mapped[int] = mapped_column(sa.Integer, default=0)
