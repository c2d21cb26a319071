"""What waits for a person: the running SLA clocks of the records they own, soonest
deadline first, with the working time left, for the "my tasks" page of the web app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import localized
from builder.runtime.automation.definitions import processes_of
from builder.runtime.automation.models import RUNNING, SlaClock
from builder.runtime.automation.sla_state import record_sla
from builder.runtime.storage.tables import entity_store

#: clocks looked at per request: a person rarely owns more running ones
MAX_CLOCKS = 500


def my_sla_clocks(user: Any, at: datetime | None = None) -> list[dict[str, Any]]:
    """Running SLA clocks on live records owned by ``user``, soonest deadline first.

    Each item: ``app``, ``entity``, ``entity_title``, ``record_id``, ``record_title``,
    ``policy``, ``title`` (language map), ``minutes`` (the policy's working minutes),
    ``due_at``, ``remaining_minutes`` (working minutes, negative once overdue) and
    ``breached``; the figures are those of the record's own SLA view."""
    clocks = db.session.execute(sa.select(
        SlaClock.app_key, SlaClock.entity_key, SlaClock.record_id).where(
        SlaClock.tenant_id == user.tenant_id, SlaClock.status == RUNNING)
        .order_by(SlaClock.due_at, SlaClock.id).limit(MAX_CLOCKS)).all()
    by_entity: dict[tuple[str, str], list[int]] = {}
    for app_key, entity_key, record_id in clocks:
        by_entity.setdefault((app_key, entity_key), []).append(record_id)
    items: list[dict[str, Any]] = []
    for (app_key, entity_key), ids in by_entity.items():
        try:
            store = entity_store(user.tenant_id, app_key, entity_key)
        except NotFound:
            continue  # unpublished since
        table = store.table
        title_field = store.entity.get("title_field")
        title_column = store.columns.get(title_field) if title_field else None
        columns = [table.c.id] + ([title_column] if title_column is not None else [])
        owned = db.session.execute(sa.select(*columns).where(
            table.c.id.in_(ids), table.c.owner == user.id,
            table.c.deleted == sa.false())).all()
        policies = processes_of(store).policies
        for row in owned:
            record_title = row[1] if len(row) > 1 and row[1] not in (None, "") else None
            for clock in record_sla(store, row[0], at):
                if clock["status"] != RUNNING:
                    continue
                policy = policies.get(clock["policy"])
                items.append({
                    "app": app_key, "entity": entity_key,
                    "entity_title": localized(store.entity.get("title")) or entity_key,
                    "record_id": row[0],
                    "record_title": str(record_title) if record_title else f"#{row[0]}",
                    "policy": clock["policy"], "title": clock["title"],
                    "minutes": policy.minutes if policy else None,
                    "due_at": clock["due_at"], "remaining_minutes": clock["remaining_minutes"],
                    "breached": clock["breached"]})
    return sorted(items, key=lambda item: (item["due_at"], item["record_id"]))
