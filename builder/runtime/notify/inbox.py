"""The in-app inbox: a user's ``inbox`` deliveries, unread first, with read marks."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.notify.models import Delivery

INBOX = "inbox"
MAX_PAGE = 100


def _mine(user: Any) -> Any:
    return sa.and_(Delivery.tenant_id == user.tenant_id, Delivery.recipient_id == user.id,
                   Delivery.channel == INBOX)


def _is_read() -> Any:
    return sa.case((Delivery.read_at.is_(None), 0), else_=1)


def _cursor(raw: str | None) -> tuple[int, int] | None:
    if not raw:
        return None
    read, _, last_id = raw.partition(":")
    if read not in ("0", "1") or not last_id.isdigit() or len(last_id) > 18:
        message = gettext("notify.error.bad_cursor")
        raise ValidationFailed(message, [Problem("cursor", message, "invalid")])
    return int(read), int(last_id)


def list_inbox(user: Any, *, unread_only: bool = False, limit: int = 20,
               cursor: str | None = None) -> dict[str, Any]:
    """A page of the user's notifications: unread ones first, newest first within each.

    Returns ``{"items", "next_cursor", "unread"}`` (``unread``: how many are unread).
    """
    query = sa.select(Delivery).where(_mine(user))
    if unread_only:
        query = query.where(Delivery.read_at.is_(None))
    position = _cursor(cursor)
    if position is not None:
        read, last_id = position
        query = query.where(sa.or_(_is_read() > read,
                                   sa.and_(_is_read() == read, Delivery.id < last_id)))
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(db.session.scalars(
        query.order_by(_is_read(), Delivery.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = f"{0 if last.read_at is None else 1}:{last.id}"
    return {"items": rows, "next_cursor": next_cursor, "unread": unread_count(user)}


def unread_count(user: Any) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).where(
        _mine(user), Delivery.read_at.is_(None))) or 0)


def mark_read(user: Any, notification_id: int) -> Delivery:
    """Mark one of the user's notifications read (reading twice keeps the first time)."""
    item = db.session.scalar(sa.select(Delivery).where(_mine(user),
                                                       Delivery.id == notification_id))
    if item is None:
        raise NotFound(gettext("notify.error.notification_not_found"))
    if item.read_at is None:
        item.read_at = utcnow()
    return item


def mark_all_read(user: Any) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = db.session.execute(
        sa.update(Delivery).where(_mine(user), Delivery.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
