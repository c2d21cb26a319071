"""Who opened which record: one row per record and reader with the first and last time.

``RecordService.open`` emits a ``read`` change when a person opens a record; the engine
stores it here (in that request's transaction) for the ``opened`` and ``not_opened``
triggers.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.extensions import db
from builder.runtime.automation.models import RecordRead
from builder.runtime.records.events import RecordChange
from builder.runtime.storage.tables import EntityStore


def track(change: RecordChange) -> int:
    """Count a read by the change's user; returns how many times they opened it so far."""
    if change.user_id is None or change.record_id is None:
        return 0
    table = RecordRead.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(
        tenant_id=change.tenant_id, app_key=change.app_key, entity_key=change.entity,
        record_id=change.record_id, user_id=change.user_id, first_at=change.now,
        last_at=change.now, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "app_key", "entity_key", "record_id", "user_id"],
        set_={"last_at": change.now, "count": table.c.count + 1},
    ).returning(table.c.count)
    return int(db.session.execute(statement).scalar_one())


def read_since(store: EntityStore, record_id: int, user_id: int | None,
               since: datetime) -> bool:
    """Whether ``user_id`` (anyone when ``None``) opened the record at or after ``since``."""
    query = sa.select(RecordRead.id).where(
        RecordRead.tenant_id == store.tenant_id, RecordRead.app_key == store.app_key,
        RecordRead.entity_key == store.key, RecordRead.record_id == record_id,
        RecordRead.last_at >= since)
    if user_id is not None:
        query = query.where(RecordRead.user_id == user_id)
    return db.session.execute(query.limit(1)).first() is not None


def read_count(store: EntityStore, record_id: int, user_id: int | None) -> int:
    """How many times ``user_id`` opened the record."""
    if user_id is None:
        return 0
    return int(db.session.execute(sa.select(RecordRead.count).where(
        RecordRead.tenant_id == store.tenant_id, RecordRead.app_key == store.app_key,
        RecordRead.entity_key == store.key, RecordRead.record_id == record_id,
        RecordRead.user_id == user_id)).scalar_one_or_none() or 0)
