"""Names ↔ ids for imports and documents: related records by a key field, users by name.

Imports turn what a person typed (a customer's name, a rep's name) into ids; exports and
print templates turn ids back into what a person reads. Both look values up in batches
(one query per few hundred values), never row by row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.i18n import localized
from builder.platform.models import User
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import field_type_registry

BATCH = 500
AMBIGUOUS = object()


def _norm(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def title_field(store: EntityStore) -> str | None:
    """The field that names a record of ``store``: ``title_field``, else the first text."""
    key = store.entity.get("title_field")
    if isinstance(key, str) and key in store.columns:
        return key
    for name, field_def in store.fields.items():
        if name in store.columns and field_def.get("type") in ("text", "autonumber"):
            return name
    return None


def records_by_key(store: EntityStore, key_field: str, values: Iterable[Any]
                   ) -> dict[str, Any]:
    """Normalized value of ``key_field`` → record id (or ``AMBIGUOUS`` when several live
    records share it). ``key_field`` may be ``id``."""
    wanted = {_norm(v): v for v in values if v is not None and str(v).strip()}
    found: dict[str, Any] = {}
    if not wanted:
        return found
    table = store.table
    column = table.c.id if key_field == "id" else store.columns[key_field]
    items = list(wanted.values())
    for start in range(0, len(items), BATCH):
        chunk = items[start:start + BATCH]
        if key_field == "id":
            chunk = [int(v) for v in chunk if _is_int(v)]
        else:
            field_def = store.fields[key_field]
            parsed = []
            for value in chunk:
                try:
                    parsed.append(field_type_registry.get(field_def["type"]).parse(
                        field_type_registry.get(field_def["type"]).from_cell(value, field_def),
                        field_def))
                except ValueError:
                    continue
            chunk = [v for v in parsed if v is not None]
        if not chunk:
            continue
        rows = db.session.execute(sa.select(table.c.id, column.label("key")).where(
            column.in_(chunk), table.c.deleted == sa.false()))
        for row in rows:
            marker = _norm(row.key)
            found[marker] = AMBIGUOUS if marker in found else int(row.id)
    return found


def _is_int(value: Any) -> bool:
    try:
        return float(value).is_integer()
    except (TypeError, ValueError):
        return False


def users_by_name(tenant_id: int, values: Iterable[Any]) -> dict[str, Any]:
    """Normalized username or display name → user id (``AMBIGUOUS`` if several match)."""
    wanted = {_norm(v) for v in values if v is not None and str(v).strip()}
    found: dict[str, Any] = {}
    if not wanted:
        return found
    rows = db.session.execute(sa.select(User.id, User.username, User.display_name).where(
        User.tenant_id == tenant_id, User.is_active == sa.true()))
    by_name: dict[str, set[int]] = {}
    for row in rows:
        for name in {row.username, row.display_name}:
            if name:
                by_name.setdefault(_norm(name), set()).add(int(row.id))
    for marker in wanted:
        ids = by_name.get(marker)
        if ids:
            found[marker] = next(iter(ids)) if len(ids) == 1 else AMBIGUOUS
    return found


def lookup(found: Mapping[str, Any], value: Any) -> Any:
    """The id for ``value`` in a ``records_by_key``/``users_by_name`` result, or None."""
    return found.get(_norm(value))


def user_names(tenant_id: int, ids: Iterable[Any]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids if isinstance(i, int)})
    names: dict[int, str] = {}
    for start in range(0, len(wanted), BATCH):
        rows = db.session.execute(sa.select(User.id, User.username, User.display_name).where(
            User.tenant_id == tenant_id, User.id.in_(wanted[start:start + BATCH])))
        names.update({int(r.id): r.display_name or r.username for r in rows})
    return names


def record_titles(store: EntityStore, ids: Iterable[Any]) -> dict[int, str]:
    """Record id → its title (the title field's value, else ``#id``)."""
    wanted = sorted({int(i) for i in ids if isinstance(i, int)})
    key = title_field(store)
    titles: dict[int, str] = {i: f"#{i}" for i in wanted}
    if key is None:
        return titles
    column = store.columns[key]
    for start in range(0, len(wanted), BATCH):
        rows = db.session.execute(sa.select(store.table.c.id, column.label("title")).where(
            store.table.c.id.in_(wanted[start:start + BATCH])))
        titles.update({int(r.id): str(r.title) for r in rows if r.title is not None})
    return titles


def option_title(field_def: Mapping[str, Any], key: Any) -> str:
    for option in field_def.get("options") or []:
        if isinstance(option, Mapping) and option.get("key") == key:
            return localized(option.get("title")) or str(key)
    return "" if key is None else str(key)
