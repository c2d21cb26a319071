"""Reading entity rows and turning them into the record shape the API shows.

A record is ``{"id", "version", "created_at", "created_by", "updated_at", "updated_by",
"owner", "deleted", <field keys>...}``; values come from each field type's ``to_json``.
Sub-table fields carry their live child records inline; child entities also show their
``parent_id``. Fields that are not live (hidden, retired) never appear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import field_type_registry

MAX_ID = 2**63 - 1
OUTPUT_SYSTEM = ("id", "version", "created_at", "created_by", "updated_at", "updated_by",
                 "owner", "deleted")
_datetime = field_type_registry.get("datetime")


def is_child_entity(store: EntityStore) -> bool:
    """Whether some sub-table field of the app keeps its rows in this entity."""
    return any(f.get("type") == "subtable" and f.get("entity") == store.key
               for entity in store.app.get("entities", []) for f in entity.get("fields", []))


def subtable_fields(store: EntityStore) -> dict[str, Mapping[Any, Any]]:
    return {k: f for k, f in store.fields.items() if f.get("type") == "subtable"}


def field_json(store: EntityStore, key: str, value: Any) -> Any:
    field = store.fields[key]
    return field_type_registry.get(field["type"]).to_json(value, field)


def to_output(store: EntityStore, row: Mapping[Any, Any],
              only: Iterable[str] | None = None) -> dict[str, Any]:
    """A row as a record (without sub-table children; see ``attach_children``)."""
    wanted = set(only) if only is not None else None
    out: dict[str, Any] = {
        "id": row["id"], "version": row["version"],
        "created_at": _datetime.to_json(row["created_at"], {}),
        "created_by": row["created_by"],
        "updated_at": _datetime.to_json(row["updated_at"], {}),
        "updated_by": row["updated_by"], "owner": row["owner"],
        "deleted": bool(row["deleted"]),
    }
    if is_child_entity(store):
        out["parent_id"] = row["parent_id"]
    for key, column in store.columns.items():
        if wanted is None or key in wanted:
            out[key] = field_json(store, key, row.get(column.name))
    return out


def fetch_row(store: EntityStore, record_id: int) -> Mapping[Any, Any] | None:
    if not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        return None
    return db.session.execute(sa.select(store.table).where(
        store.table.c.id == record_id)).mappings().first()


def fetch_children(child: EntityStore, parent_ids: list[int],
                   include_deleted: bool = False) -> dict[int, list[Mapping[Any, Any]]]:
    """Child rows per parent id, in creation order; one query."""
    if not parent_ids:
        return {}
    table = child.table
    query = sa.select(table).where(table.c.parent_id.in_(parent_ids)).order_by(table.c.id)
    if not include_deleted:
        query = query.where(table.c.deleted == sa.false())
    grouped: dict[int, list[Mapping[Any, Any]]] = {pid: [] for pid in parent_ids}
    for row in db.session.execute(query).mappings():
        grouped.setdefault(row["parent_id"], []).append(row)
    return grouped


def attach_children(store: EntityStore, stores: Mapping[str, EntityStore],
                    records: list[dict[str, Any]], only: Iterable[str] | None = None) -> None:
    """Fill each sub-table field of ``records`` with its live children: one query per field."""
    wanted = set(only) if only is not None else None
    ids = [r["id"] for r in records]
    for key, field in subtable_fields(store).items():
        if wanted is not None and key not in wanted:
            continue
        child = stores.get(str(field.get("entity")))
        if child is None:
            continue
        grouped = fetch_children(child, ids)
        for record in records:
            rows = [to_output(child, r) for r in grouped.get(record["id"], [])]
            attach_children(child, stores, rows)
            record[key] = rows


def read_records(store: EntityStore, stores: Mapping[str, EntityStore],
                 ids: list[int]) -> dict[int, dict[str, Any]]:
    """Full records (with children) by id, deleted ones included."""
    if not ids:
        return {}
    rows = db.session.execute(sa.select(store.table).where(
        store.table.c.id.in_(ids))).mappings().all()
    records = [to_output(store, row) for row in rows]
    attach_children(store, stores, records)
    return {r["id"]: r for r in records}
