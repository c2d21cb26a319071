"""The audit trail: one row per create, update, delete and restore of a record.

Rows live in the tenant's ``audit`` table and are only ever appended; nothing in the
product edits or deletes them. ``before`` and ``after`` hold the record as the API shows
it, ``changes`` maps each changed field (and the system ``owner``) to ``[old, new]``.

Engines that keep their own account of a change (the assignment engine: which rule and
strategy gave the record to whom) register a ``history_details`` provider; ``history``
shows what it returns under ``details.<name>`` of the audit row of that change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform.models import User
from builder.runtime.storage.tables import SYSTEM_FIELDS, EntityStore
from builder.runtime.storage.tenancy import system_tables

CREATE, UPDATE, DELETE, RESTORE = "create", "update", "delete", "restore"
#: keys compared besides the entity's fields
AUDITED_SYSTEM_FIELDS = ("owner",)

#: (store, record id) → {record version after a change: details of that change}
DetailsProvider = Callable[[EntityStore, int], Mapping[int, Mapping[str, Any]]]
history_details: dict[str, DetailsProvider] = {}


def audit_table(store: EntityStore) -> sa.Table:
    return system_tables(store.tenant_id, db.session.get_bind().dialect.name)[0]


def _comparable(value: Any) -> Any:
    """Child rows compare by their field values only, not by versions or timestamps."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return [{k: v for k, v in row.items() if k not in SYSTEM_FIELDS or k == "id"}
                for row in value]
    return value


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None,
            field_keys: list[str]) -> dict[str, list[Any]]:
    """Field key → ``[old, new]`` for every field whose value differs."""
    old, new = before or {}, after or {}
    diff: dict[str, list[Any]] = {}
    for key in field_keys:
        if key not in old and key not in new:
            continue
        if _comparable(old.get(key)) != _comparable(new.get(key)):
            diff[key] = [old.get(key), new.get(key)]
    return diff


def append(store: EntityStore, record_id: int, action: str, user_id: int | None,
           at: datetime, before: Mapping[str, Any] | None,
           after: Mapping[str, Any] | None) -> None:
    """Append one audit row, in the caller's transaction."""
    db.session.execute(sa.insert(audit_table(store)).values(
        app_key=store.app_key, entity_key=store.key, record_id=record_id, action=action,
        user_id=user_id, at=at, before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        changes=changes(before, after, [*store.fields, *AUDITED_SYSTEM_FIELDS])))


def _iso(moment: Any) -> Any:
    if isinstance(moment, datetime):
        text = moment.isoformat() if moment.tzinfo else moment.isoformat() + "+00:00"
        return text.replace("+00:00", "Z")
    return moment


def history(store: EntityStore, record_id: int) -> list[dict[str, Any]]:
    """Every audit row of a record, newest first, with the acting user's display name."""
    audit = audit_table(store)
    rows = db.session.execute(
        sa.select(audit).where(audit.c.app_key == store.app_key,
                               audit.c.entity_key == store.key,
                               audit.c.record_id == record_id)
        .order_by(audit.c.at.desc(), audit.c.id.desc())).mappings().all()
    user_ids = {r["user_id"] for r in rows if r["user_id"] is not None}
    names: dict[int, tuple[str, str]] = {}
    if user_ids:
        for user in db.session.execute(
                sa.select(User.id, User.username, User.display_name).where(
                    User.id.in_(user_ids), User.tenant_id == store.tenant_id)):
            names[user.id] = (user.username, user.display_name or user.username)
    details = {name: provider(store, record_id) for name, provider in history_details.items()}
    items = []
    for row in rows:
        uid = row["user_id"]
        version = (row["after"] or {}).get("version")
        found = {name: by_version[version] for name, by_version in details.items()
                 if isinstance(version, int) and version in by_version}
        username, name = names.get(uid, ("", "")) if uid is not None else ("", "")
        items.append({
            "id": row["id"], "action": row["action"], "at": _iso(row["at"]),
            "user": None if uid is None else {"id": uid, "username": username, "name": name},
            "before": row["before"], "after": row["after"], "changes": row["changes"] or {},
            "details": found,
        })
    return items
