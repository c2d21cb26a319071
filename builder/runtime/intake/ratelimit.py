"""Fixed-window rate limits counted in the database, so every web node sees one count.

Used by public forms (every call counts) and by logins (only failures count: ``refuse_over``
before checking the password, ``add`` after a wrong one).

``hit`` adds one call to each bucket's counter for the current window with one atomic
upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) and commits, so calls refused
later in the request still count. Over the limit, it raises ``TooManyRequests`` (429).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.errors import AppError
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.intake.models import RateCounter


class TooManyRequests(AppError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, [], "rate_limited", 429, {"retry_after": retry_after})


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _increment(bucket: str, start: datetime) -> int:
    table = RateCounter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(bucket=bucket, window_start=start, count=1)
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.window_start],
        set_={"count": table.c.count + 1}).returning(table.c.count)
    count = int(db.session.execute(upsert).scalar_one())
    if count == 1:  # first call of a new window: forget the bucket's older windows
        db.session.execute(sa.delete(table).where(table.c.bucket == bucket,
                                                  table.c.window_start < start))
    return count


def hit(limits: Sequence[tuple[str, int]], window: timedelta, now: datetime) -> None:
    """Count one call in each ``(bucket, limit)``, in order; 429 at the first bucket over
    its limit, whose call then does not count in the buckets after it (a client over its
    own limit does not use up the form's)."""
    start = window_start(now, window)
    over = False
    for bucket, limit in limits:
        if _increment(bucket, start) > limit:
            over = True
            break
    db.session.commit()
    if over:
        retry_after = math.ceil((start + window - now).total_seconds())
        raise TooManyRequests(gettext("intake.error.rate_limited",
                                      seconds=max(1, retry_after)), max(1, retry_after))


def _count(bucket: str, start: datetime) -> int:
    table = RateCounter.__table__
    found = db.session.scalar(sa.select(table.c.count).where(
        table.c.bucket == bucket, table.c.window_start == start))
    return int(found or 0)


def refuse_over(limits: Sequence[tuple[str, int]], window: timedelta, now: datetime,
                message_key: str) -> None:
    """429 (``message_key`` with ``seconds``) when a bucket already reached its limit in
    the current window; counts nothing."""
    start = window_start(now, window)
    if any(_count(bucket, start) >= limit for bucket, limit in limits):
        retry_after = max(1, math.ceil((start + window - now).total_seconds()))
        raise TooManyRequests(gettext(message_key, seconds=retry_after), retry_after)


def add(buckets: Sequence[str], window: timedelta, now: datetime) -> None:
    """Count one event in each bucket and commit, whatever the request does next."""
    start = window_start(now, window)
    for bucket in buckets:
        _increment(bucket, start)
    db.session.commit()


def forget(bucket: str) -> None:
    """Drop every count of ``bucket`` (in the caller's transaction)."""
    table = RateCounter.__table__
    db.session.execute(sa.delete(table).where(table.c.bucket == bucket))
