"""SQLAlchemy tables for entities, built from storage metadata and cached per app revision.

``entity_store(tenant_id, app_key, entity_key)`` is how every other module reaches an
entity's rows: it gives the table, the live entity definition and the column of each field.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.storage.models import ACTIVE, EntityTable, FieldColumn
from builder.runtime.storage.tenancy import table_location
from builder.schema.field_types import field_type_registry

SYSTEM_FIELDS = ("id", "created_at", "created_by", "updated_at", "updated_by", "owner",
                 "version", "deleted", "parent_id")


def system_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer, nullable=True),
        sa.Column("owner", sa.Integer, nullable=True, index=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false(), index=True),
        sa.Column("parent_id", sa.BigInteger, nullable=True, index=True),
    ]


def field_column(column: FieldColumn) -> sa.Column[Any]:
    field_type = field_type_registry.get(column.field_type)
    return sa.Column(column.column_name, field_type.column_type(column.field_def), nullable=True)


def index_name(table_name: str, column_name: str) -> str:
    return f"ix_{table_name}_{column_name}"


def wants_index(field_def: Mapping[str, Any]) -> bool:
    field_type = field_type_registry.get(field_def["type"])
    return bool(field_type.has_column and (field_type.indexed or field_def.get("index")
                                           or field_def.get("unique")))


def build_table(tenant_id: int, entity_table: EntityTable, columns: list[FieldColumn],
                dialect: str) -> sa.Table:
    """The table as it stands, including hidden and retired columns that still hold data."""
    schema, name = table_location(tenant_id, entity_table.local_name, dialect)
    table = sa.Table(name, sa.MetaData(), *system_columns(), schema=schema)
    for column in columns:
        table.append_column(field_column(column))
    return table


@dataclass(frozen=True)
class EntityStore:
    tenant_id: int
    app_id: int
    app: Mapping[str, Any]
    entity: Mapping[str, Any]
    table: sa.Table
    #: field key → live field definition, in definition order
    fields: Mapping[str, Mapping[str, Any]]
    #: field key → column, for live fields that own a column
    columns: Mapping[str, sa.Column[Any]] = field(default_factory=dict)
    #: the app's revision token: the key of the cache holding this store and its siblings
    revision: str = ""

    @property
    def key(self) -> str:
        return str(self.entity["key"])

    @property
    def app_key(self) -> str:
        return str(self.app["key"])


_cache: dict[tuple[int, str], dict[str, EntityStore]] = {}
_cache_lock = threading.Lock()


def load_stores(tenant_id: int, app_id: int, revision: str, definition: Mapping[str, Any]
                ) -> dict[str, EntityStore]:
    """Every entity of a published app, cached by the app's revision token."""
    cache_key = (app_id, revision)
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    dialect = db.session.get_bind().dialect.name
    tables = {t.entity_key: t for t in db.session.scalars(
        sa.select(EntityTable).where(EntityTable.app_id == app_id))}
    columns_by_table: dict[int, list[FieldColumn]] = {}
    for column in db.session.scalars(
            sa.select(FieldColumn).where(FieldColumn.entity_table_id.in_(
                [t.id for t in tables.values()])).order_by(FieldColumn.id)):
        columns_by_table.setdefault(column.entity_table_id, []).append(column)
    stores: dict[str, EntityStore] = {}
    for entity in definition.get("entities", []):
        entity_table = tables.get(entity["key"])
        if entity_table is None:
            continue
        physical = columns_by_table.get(entity_table.id, [])
        table = build_table(tenant_id, entity_table, physical, dialect)
        fields = {f["key"]: f for f in entity.get("fields", [])}
        live = {c.field_key: table.c[c.column_name] for c in physical
                if c.state == ACTIVE and c.field_key in fields}
        stores[entity["key"]] = EntityStore(tenant_id, app_id, definition, entity, table,
                                            fields, live, revision)
    with _cache_lock:
        if len(_cache) > 2000:
            _cache.clear()
        _cache[cache_key] = stores
    return stores


def entity_store(tenant_id: int, app_key: str, entity_key: str) -> EntityStore:
    """The live store of an entity of a published app in this tenant, or ``NotFound``."""
    from builder.designer.service import live_app

    app, definition = live_app(tenant_id, app_key)
    stores = load_stores(tenant_id, app.id, app.live_revision or "", definition)
    store = stores.get(entity_key)
    if store is None:
        raise NotFound(gettext("storage.error.entity_not_found", entity=entity_key))
    return store


def sibling_stores(store: EntityStore) -> dict[str, EntityStore]:
    """Every entity of the store's app at the same revision, without another lookup."""
    return load_stores(store.tenant_id, store.app_id, store.revision, store.app)
